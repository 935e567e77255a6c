package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestLayoutListsEveryPackage: the README's layout table names every Go package of the
// repository (a folder with a Go file outside testdata, node_modules and generated code), each
// in a row of its own, so that a newcomer finds every package's job in one line.
func TestLayoutListsEveryPackage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	start := strings.Index(text, "\n## Layout\n")
	if start < 0 {
		t.Fatal("README.md has no \"## Layout\" section")
	}
	section := text[start+1:]
	if end := strings.Index(section[3:], "\n## "); end >= 0 {
		section = section[:end+3]
	}
	listed := map[string]bool{}
	cell := regexp.MustCompile("^\\| `([^`|]+/)`")
	for _, line := range strings.Split(section, "\n") {
		if m := cell.FindStringSubmatch(line); m != nil {
			listed[m[1]] = true
		}
	}
	var packages []string
	err = filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "cdktf.out") {
				return filepath.SkipDir
			}
			return nil
		}
		if dir := filepath.ToSlash(filepath.Dir(path)); strings.HasSuffix(path, ".go") && dir != "." && !slices.Contains(packages, dir+"/") {
			packages = append(packages, dir+"/")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(packages) < 10 {
		t.Fatalf("found only %d packages: %v", len(packages), packages)
	}
	for _, p := range packages {
		if !listed[p] {
			t.Errorf("the README's layout table has no row for `%s`", p)
		}
	}
}
