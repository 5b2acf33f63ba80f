package calls

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"parley"
)

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ICEServers is the answer of GET /api/v1/calls/ice-servers. TTL is how
// many seconds the TURN credentials stay valid: fetch the list again for
// each call, or when it is older than that.
type ICEServers struct {
	ICEServers []ICEServer `json:"ice_servers"`
	TTL        int64       `json:"ttl"`
}

// TURNCredentials derives TURN credentials by the TURN REST API scheme
// (draft-uberti-behave-turn-rest), which coturn checks with use-auth-secret
// and static-auth-secret: the username is "<expiry Unix time>:<user id>",
// the password base64(HMAC-SHA1(secret, username)). The TURN server accepts
// them until expiry without knowing the user.
func TURNCredentials(secret string, userID int64, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + strconv.FormatInt(userID, 10)
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ICEServers returns the STUN and TURN servers for userID, with TURN
// credentials valid for TURNTTL from now.
func (s *Service) ICEServers(userID int64) ICEServers {
	out := ICEServers{ICEServers: []ICEServer{}, TTL: int64(s.cfg.TURNTTL / time.Second)}
	if len(s.cfg.STUNURLs) > 0 {
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: s.cfg.STUNURLs})
	}
	if len(s.cfg.TURNURLs) > 0 {
		user, cred := TURNCredentials(s.cfg.TURNSecret, userID, time.Now().Add(s.cfg.TURNTTL))
		out.ICEServers = append(out.ICEServers, ICEServer{URLs: s.cfg.TURNURLs, Username: user, Credential: cred})
	}
	return out
}

// HandleICEServers serves GET /api/v1/calls/ice-servers (app registers it
// behind authentication).
func (s *Service) HandleICEServers(w http.ResponseWriter, r *http.Request, u parley.User, _ parley.Session) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // credentials
	if err := json.NewEncoder(w).Encode(s.ICEServers(u.ID)); err != nil {
		s.log.Debug("calls: write ice servers", "err", err)
	}
}
