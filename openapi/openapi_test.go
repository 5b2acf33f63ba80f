package openapi_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"parley/openapi/openapitest"
)

// routePattern finds the routes the server registers: a quoted
// "METHOD /path" in the code of the packages that register them.
var routePattern = regexp.MustCompile(`"(GET|HEAD|POST|PUT|PATCH|DELETE) (/[^" ]*)"`)

// TestEveryRouteDescribed: the routes registered in http/ and app/ and the
// operations of openapi.json are the same, so a route added without its
// description fails here even before a test calls it.
func TestEveryRouteDescribed(t *testing.T) {
	v, err := openapitest.Load()
	if err != nil {
		t.Fatal(err)
	}
	var code []string
	for _, dir := range []string{"../http", "../app"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range routePattern.FindAllStringSubmatch(string(src), -1) {
				if !strings.HasPrefix(m[2], openapitest.TestRoutes) {
					code = append(code, m[1]+" "+m[2])
				}
			}
		}
	}
	if len(code) < 10 {
		t.Fatalf("found only %d routes in the code: %q", len(code), code)
	}
	var spec []string
	for path, item := range v.Doc().Paths.Map() {
		for method := range item.Operations() {
			spec = append(spec, method+" "+path)
		}
	}
	for _, r := range code {
		if !slices.Contains(spec, r) {
			t.Errorf("route %s is not described in openapi/openapi.json", r)
		}
	}
	for _, r := range spec {
		if !slices.Contains(code, r) {
			t.Errorf("openapi/openapi.json describes %s, which the server does not register", r)
		}
	}
}
