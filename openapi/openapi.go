// Package openapi holds the OpenAPI 3.1 description of Parley's REST API,
// openapi.json, which the server serves at GET /api/v1/openapi.json.
// Package openapitest checks the answers of the tests' servers against it,
// so a route, a status or a field it does not describe fails the tests.
package openapi

import _ "embed"

// JSON is the description, as served.
//
//go:embed openapi.json
var JSON []byte
