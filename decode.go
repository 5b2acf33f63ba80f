package parley

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
)

// Decode reads one JSON object from data into v, strictly: an unknown field,
// a value of the wrong type, malformed JSON or anything after the object is
// an EINVALID error, naming the field when there is one. REST bodies and
// WebSocket operations are both read with it, so the same bad input gets the
// same error on either path. Empty data (or only white space) reads as {}.
func Decode(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return Errorf(EINVALID, "A request must be one JSON object.")
	}
	return nil
}

func decodeError(err error) error {
	var ute *json.UnmarshalTypeError
	var se *json.SyntaxError
	var pe *Error
	switch {
	case errors.As(err, &pe): // from a type's own UnmarshalJSON
		return pe
	case errors.As(err, &ute) && ute.Field == "":
		return Errorf(EINVALID, "A request must be a JSON object.")
	case errors.As(err, &ute):
		return FieldErrorf(ute.Field, "%s must be a %s.", ute.Field, jsonType(ute.Type))
	case errors.As(err, &se):
		return Errorf(EINVALID, "Malformed JSON at byte %d.", se.Offset)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return FieldErrorf(f, "Unknown field %q.", f)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return Errorf(EINVALID, "Malformed JSON: unexpected end.")
	}
	return Errorf(EINVALID, "Malformed JSON.")
}

// jsonType names a Go type as a JSON client thinks of it.
func jsonType(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Bool:
		return "boolean"
	case reflect.String:
		return "string"
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "list"
	}
	return t.Kind().String()
}
