package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// flags is a FlagSet whose defaults can come from PARLEY_* variables.
type flags struct {
	*flag.FlagSet
	getenv func(string) string
	errs   []error
}

func newFlags(name string, getenv func(string) string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	return &flags{FlagSet: fs, getenv: getenv}
}

func (f *flags) env(name, env string) (string, bool) {
	v := f.getenv(env)
	return v, v != ""
}

func (f *flags) String(name, env, def, help string) *string {
	if v, ok := f.env(name, env); ok {
		def = v
	}
	return f.FlagSet.String(name, def, help+" ($"+env+")")
}

func (f *flags) Int(name, env string, def int, help string) *int {
	if v, ok := f.env(name, env); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("$%s: %q is not a whole number", env, v))
		}
		def = n
	}
	return f.FlagSet.Int(name, def, help+" ($"+env+")")
}

func (f *flags) Bool(name, env string, def bool, help string) *bool {
	if v, ok := f.env(name, env); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("$%s: %q is not true or false", env, v))
		}
		def = b
	}
	return f.FlagSet.Bool(name, def, help+" ($"+env+")")
}

func (f *flags) Duration(name, env string, def time.Duration, help string) *time.Duration {
	if v, ok := f.env(name, env); ok {
		d, err := time.ParseDuration(v)
		if err != nil {
			f.errs = append(f.errs, fmt.Errorf("$%s: %q is not a duration (like 30s, 1h)", env, v))
		}
		def = d
	}
	return f.FlagSet.Duration(name, def, help+" ($"+env+")")
}

// parse parses args after the environment has been read.
func (f *flags) parse(args []string) error {
	if len(f.errs) > 0 {
		return f.errs[0]
	}
	return f.Parse(args)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
