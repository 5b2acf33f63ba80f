package main

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestMakeDist: the release build (make dist's recipe, for this machine's
// target only: building all four takes minutes) makes a static binary with
// the version stamped and the web app embedded when it is built, and a
// SHA256SUMS that matches it. `make dist` builds the web app first and all
// four targets.
func TestMakeDist(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a release binary")
	}
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is missing")
		}
		t.Skip("no make here")
	}
	dir := t.TempDir()
	target := runtime.GOOS + "/" + runtime.GOARCH
	const version = "v0.0.0-disttest"
	cmd := exec.Command("make", "-C", "../..", "dist-bin", "DIST_TARGETS="+target, "DIST_DIR="+dir, "VERSION="+version)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make dist-bin: %v\n%s", err, out)
	}
	name := "parley-" + version + "-" + runtime.GOOS + "-" + runtime.GOARCH
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(dir, name)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := os.ReadFile(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if want := hex.EncodeToString(sum[:]) + "  " + name + "\n"; string(sums) != want {
		t.Fatalf("SHA256SUMS is %q, want %q", sums, want)
	}
	if runtime.GOOS == "linux" {
		f, err := elf.NewFile(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Fatal("the binary names a dynamic loader: it is not static")
			}
		}
		if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
			t.Fatalf("the binary needs shared libraries %v", libs)
		}
	}
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s version: %v\n%s", name, err, out)
	}
	if !strings.HasPrefix(string(out), "parley "+version+" (") {
		t.Fatalf("%s version printed %q", name, out)
	}
	_, statErr := os.Stat("../../web/dist/app/index.html")
	if webBuilt := statErr == nil; webBuilt != strings.Contains(string(out), "web app embedded") || os.Getenv("CI") == "true" && !webBuilt {
		t.Fatalf("web app built: %v; the release binary says %q", webBuilt, out)
	}
	t.Logf("%s: %d MiB: %s", name, len(data)>>20, strings.TrimSpace(string(out)))
}
