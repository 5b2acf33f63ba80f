package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// flags is a FlagSet whose flags can also be set by PARLEY_* variables.
//
// Flags are declared with their defaults from the code, so -h shows those
// and nothing from the environment. After the command line is parsed, the
// variables of the flags it did not set are applied; an error names the
// variable, never its value. Secrets (Secret) can also come from a file.
type flags struct {
	*flag.FlagSet
	getenv  func(string) string
	out     io.Writer // where -h prints the flags
	envs    []envFlag
	secrets []*secret
}

type envFlag struct{ flag, env string }

func newFlags(name string, getenv func(string) string, out io.Writer) *flags {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // parse prints the flags for -h, and only then
	return &flags{FlagSet: fs, getenv: getenv, out: out}
}

func (f *flags) bind(name, env string) { f.envs = append(f.envs, envFlag{name, env}) }

func (f *flags) String(name, env, def, help string) *string {
	f.bind(name, env)
	return f.FlagSet.String(name, def, help+" ($"+env+")")
}

func (f *flags) Int(name, env string, def int, help string) *int {
	f.bind(name, env)
	return f.FlagSet.Int(name, def, help+" ($"+env+")")
}

func (f *flags) Bool(name, env string, def bool, help string) *bool {
	f.bind(name, env)
	return f.FlagSet.Bool(name, def, help+" ($"+env+")")
}

func (f *flags) Duration(name, env string, def time.Duration, help string) *time.Duration {
	f.bind(name, env)
	return f.FlagSet.Duration(name, def, help+" ($"+env+")")
}

// secret is a setting given as --name, --name-file, $ENV or $ENV_FILE.
type secret struct {
	name, env   string
	value, file *string
}

// Secret declares a secret setting (a password, a key): --name or
// --name-file (a file holding it; a trailing newline is dropped) on the
// command line, else $ENV or $ENV_FILE. Prefer the file or the variable:
// other users of a machine can read command lines. The value is never
// shown, and empty means unset.
func (f *flags) Secret(name, env, help string) *string {
	s := &secret{name: name, env: env,
		value: f.FlagSet.String(name, "", help+" ($"+env+"; prefer --"+name+"-file)"),
		file:  f.FlagSet.String(name+"-file", "", "file holding --"+name+" ($"+env+"_FILE)"),
	}
	f.secrets = append(f.secrets, s)
	return s.value
}

// parse parses args, then applies the variables of the flags args did not
// set, then reads the secrets' files. For -h it prints the flags to the
// output given to newFlags and returns flag.ErrHelp.
func (f *flags) parse(args []string) error {
	if err := f.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			f.SetOutput(f.out)
			fmt.Fprintf(f.out, "Usage of %s (each flag can also be set with the $PARLEY_* variable named next to it; the flag wins):\n", f.Name())
			f.PrintDefaults()
			f.SetOutput(io.Discard)
		}
		return err
	}
	set := map[string]bool{}
	f.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	for _, e := range f.envs {
		v := f.getenv(e.env)
		if set[e.flag] || v == "" {
			continue
		}
		if err := f.Set(e.flag, v); err != nil {
			return fmt.Errorf("$%s must be %s", e.env, kindOf(f.Lookup(e.flag)))
		}
	}
	for _, s := range f.secrets {
		if err := s.resolve(set, f.getenv); err != nil {
			return err
		}
	}
	return nil
}

// resolve sets the secret's value from the command line, else from the
// environment, reading a named file.
func (s *secret) resolve(set map[string]bool, getenv func(string) string) error {
	var from, file string
	switch {
	case set[s.name] && set[s.name+"-file"]:
		return fmt.Errorf("give --%s or --%s-file, not both", s.name, s.name)
	case set[s.name]:
		return nil
	case set[s.name+"-file"]:
		from, file = "--"+s.name+"-file", *s.file
	case getenv(s.env) != "" && getenv(s.env+"_FILE") != "":
		return fmt.Errorf("set $%s or $%s_FILE, not both", s.env, s.env)
	case getenv(s.env) != "":
		*s.value = getenv(s.env)
		return nil
	case getenv(s.env+"_FILE") != "":
		from, file = "$"+s.env+"_FILE", getenv(s.env+"_FILE")
	default:
		return nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the message already
		}
		return fmt.Errorf("%s: cannot read %s: %v", from, file, err)
	}
	*s.value = strings.TrimRight(string(b), "\r\n")
	return nil
}

// kindOf says what a flag's value must look like.
func kindOf(fl *flag.Flag) string {
	switch fl.Value.(flag.Getter).Get().(type) {
	case int:
		return "a whole number"
	case bool:
		return "true or false"
	case time.Duration:
		return "a duration (like 30s, 1h)"
	case sizeValue:
		return "a size (like 25MiB)"
	}
	return "valid"
}

// isHelp reports whether err is the answer to -h: not a failure.
func isHelp(err error) bool { return errors.Is(err, flag.ErrHelp) }

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
