package main

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// configFlags are --config and --print-config. They work over whatever flags
// silo serve has: a flag added later is settable from the file and printed
// with no change here.
type configFlags struct {
	file  string
	print bool
	// from says where each flag's value came from, for --print-config.
	from map[string]string
}

func (c *configFlags) add(f *pflag.FlagSet) {
	f.StringVar(&c.file, "config", "", "YAML file of settings keyed by flag name (addr: 0.0.0.0:8080); flags and SILO_* variables win over it")
	f.BoolVar(&c.print, "print-config", false, "print the settings in effect, and where each came from, as YAML with secrets masked, and exit")
}

// notSettings are the flags that are no setting of the server.
var notSettings = map[string]bool{"config": true, "print-config": true, "help": true}

// maxConfigFile bounds the --config file.
const maxConfigFile = 1 << 20

// apply sets every flag not given on the command line from its SILO_*
// variable, else from the --config file.
func (c *configFlags) apply(cmd *cobra.Command, getenv func(string) string) error {
	fs := cmd.Flags()
	c.from = make(map[string]string)
	fs.Visit(func(f *pflag.Flag) { c.from[f.Name] = "flag" })
	if err := flagsFromEnv(cmd, getenv); err != nil {
		return err
	}
	fs.VisitAll(func(f *pflag.Flag) {
		if !f.Changed && getenv(envName(f)) != "" {
			c.from[f.Name] = envName(f)
		}
	})
	if c.file == "" {
		return nil
	}
	return c.readFile(fs)
}

// readFile sets the flags that neither the command line nor the environment
// set from the --config file: a YAML mapping of flag names to values (a list
// for a flag that takes several).
func (c *configFlags) readFile(fs *pflag.FlagSet) error {
	f, err := os.Open(c.file)
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	if err != nil {
		return fmt.Errorf("--config: %w", err)
	}
	if len(b) > maxConfigFile {
		return fmt.Errorf("--config %s: larger than %d bytes", c.file, maxConfigFile)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return usagef("--config %s: %v", c.file, err)
	}
	if len(doc.Content) == 0 {
		return nil // an empty file
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return usagef("--config %s line %d: want settings of the form flag-name: value", c.file, m.Line)
	}
	seen := make(map[string]int)
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		where := fmt.Sprintf("--config %s line %d", c.file, k.Line)
		fl := fs.Lookup(k.Value)
		switch {
		case k.Kind != yaml.ScalarNode || fl == nil || notSettings[k.Value]:
			return usagef("%s: %q is not a flag of silo serve (see silo serve --help)", where, k.Value)
		case seen[k.Value] != 0:
			return usagef("%s: %s is set on line %d already", where, k.Value, seen[k.Value])
		}
		seen[k.Value] = k.Line
		if _, set := c.from[fl.Name]; set {
			continue // the command line or the environment wins
		}
		if err := setFromYAML(fl, v); err != nil {
			return usagef("%s: %s: %v", where, k.Value, err)
		}
		c.from[fl.Name] = "config file"
	}
	return nil
}

// setFromYAML sets f to the YAML value v: a scalar, or a list for a flag
// that takes several values.
func setFromYAML(f *pflag.Flag, v *yaml.Node) error {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Tag == "!!null" {
			return f.Value.Set("") // "db:" is the empty value
		}
		return f.Value.Set(v.Value)
	case yaml.SequenceNode:
		sv, ok := f.Value.(pflag.SliceValue)
		if !ok {
			return errors.New("takes one value, not a list")
		}
		var vals []string
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return errors.New("want a list of values")
			}
			vals = append(vals, e.Value)
		}
		return sv.Replace(vals)
	}
	return errors.New("want a value")
}

// printConfig writes the settings of cmd in effect as a YAML file that
// --config takes, each with where it came from, secrets masked.
func printConfig(cmd *cobra.Command, e *env, from map[string]string) error {
	m := &yaml.Node{Kind: yaml.MappingNode}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if notSettings[f.Name] {
			return
		}
		v := &yaml.Node{Kind: yaml.ScalarNode, Value: maskSecrets(f.Name, f.Value.String())}
		if v.Value == "" {
			v.Style = yaml.DoubleQuotedStyle
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			v = &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, s := range sv.GetSlice() {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: maskSecrets(f.Name, s)})
			}
		}
		src := from[f.Name]
		if src == "" {
			src = "default"
		}
		v.LineComment = src
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: f.Name}, v)
	})
	doc := &yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m},
		HeadComment: "silo serve: settings in effect (a flag wins over its SILO_* variable, which wins over --config)"}
	if keys := e.getenv("SILO_API_KEYS"); keys != "" {
		doc.FootComment = fmt.Sprintf("SILO_API_KEYS: %d entries, not shown", len(strings.Split(keys, ",")))
	}
	enc := yaml.NewEncoder(e.stdout)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	return enc.Close()
}

// masked replaces a secret in --print-config.
const masked = "xxxxx"

var (
	secretName  = regexp.MustCompile(`(?i)password|secret|token|credential`)
	secretParam = regexp.MustCompile(`(?i)(\b\w*(?:password|secret|token)\w*\s*=\s*)('[^']*'|[^\s&]+)`)
)

// maskSecrets hides the secrets in the value of a flag: the whole value of a
// flag named like a secret, the password of a URL, and password=..., secret=...,
// token=... settings in a URL's query or a keyword/value connection string.
func maskSecrets(name, value string) string {
	if value == "" {
		return value
	}
	if secretName.MatchString(name) {
		return masked
	}
	if u, err := url.Parse(value); err == nil && u.User != nil {
		if _, ok := u.User.Password(); ok {
			u.User = url.UserPassword(u.User.Username(), masked)
			value = u.String()
		}
	}
	return secretParam.ReplaceAllString(value, "${1}"+masked)
}
