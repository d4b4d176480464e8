package config

import _ "embed"

//go:embed default.yaml
var defaultYAML []byte

// DefaultYAML returns the text of the embedded default configuration.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Default returns a fresh copy of the embedded default configuration
// (config/default.yaml), validated: one HTTP listener on 127.0.0.1:8080
// forwarding to target group "echo", whose function is the builtin echo.
// Its state_dir is .albedo in the current directory.
func Default() *Config {
	c, err := Parse(defaultYAML, "")
	if err != nil {
		panic("config: embedded default.yaml is invalid: " + err.Error())
	}
	return c
}
