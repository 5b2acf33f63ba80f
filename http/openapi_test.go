package http_test

import (
	"encoding/json"
	"testing"

	"parley/servertest"
)

// The API's description is served, to anyone, as JSON.
func TestOpenAPIServed(t *testing.T) {
	srv := servertest.Start(t)
	anon := &servertest.API{T: t, Base: srv.URL}
	r := anon.Must(200, "GET", "/api/v1/openapi.json", nil)
	var doc struct {
		OpenAPI string                     `json:"openapi"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(r.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/api/v1/conversations/{id}/messages"] == nil {
		t.Errorf("description: openapi %q, %d paths", doc.OpenAPI, len(doc.Paths))
	}
}
