package ui

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// STYLE.md: "Commands are built in cmds.go only". A handler that wants the
// clipboard, a raw escape, a quit or a timer calls a constructor there,
// so every effect the dashboard can have is listed in one file.
func TestCmdsAreBuiltInCmdsGoOnly(t *testing.T) {
	effects := map[string]bool{
		"SetClipboard": true, "ReadClipboard": true, "Raw": true, "Quit": true, "ClearScreen": true,
		"Tick": true, "Every": true, "Println": true, "Printf": true, "SetWindowTitle": true,
		"RequestBackgroundColor": true, "RequestTerminalVersion": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		// cmds_<topic>.go files hold a topic's Cmds (cmds_gallery.go)
		if name == "cmds.go" || strings.HasPrefix(name, "cmds_") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "tea" && effects[n.Sel.Name] {
					t.Errorf("%s: tea.%s outside cmds.go: add a constructor there", fset.Position(n.Pos()), n.Sel.Name)
				}
			case *ast.FuncLit:
				if res := n.Type.Results; res != nil && len(res.List) == 1 {
					if sel, ok := res.List[0].Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Msg" {
						t.Errorf("%s: a Cmd (func() tea.Msg) built outside cmds.go", fset.Position(n.Pos()))
					}
				}
			}
			return true
		})
	}
}
