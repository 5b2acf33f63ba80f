package http

import (
	"net/http"
	"net/url"

	"parley"
)

// checkURL refuses, with 400 invalid, a request whose path or query string
// holds a NUL or text that is not UTF-8 (see parley.ValidText), or whose
// query string is malformed, before any handler sees it. Bodies are checked
// by decode.
func (s *Server) checkURL(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := urlText(r.URL); err != nil {
			s.writeError(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func urlText(u *url.URL) error {
	if err := parley.CheckText("", u.Path); err != nil {
		return err
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return parley.Errorf(parley.EINVALID, "Malformed query string.")
	}
	for k, vs := range q {
		if err := parley.CheckText("", k); err != nil {
			return err
		}
		for _, v := range vs {
			if err := parley.CheckText(k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
