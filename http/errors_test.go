package http_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"strconv"
	"testing"

	phttp "parley/http"
)

// TestEveryCodeHasAStatus: each error code declared in the root error.go
// maps to its own HTTP status (only internal is 500).
func TestEveryCodeHasAStatus(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../error.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for i, name := range spec.(*ast.ValueSpec).Names {
				lit, ok := spec.(*ast.ValueSpec).Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				code, _ := strconv.Unquote(lit.Value)
				n++
				if st := phttp.ErrorStatus(code); (st == http.StatusInternalServerError) != (code == "internal") {
					t.Errorf("%s (%q) maps to %d", name.Name, code, st)
				}
			}
		}
	}
	if n < 20 {
		t.Fatalf("found only %d codes in error.go", n)
	}
}
