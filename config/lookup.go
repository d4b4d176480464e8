package config

// TargetGroupByName returns the target group called name, or nil.
func (c *Config) TargetGroupByName(name string) *TargetGroup {
	for i := range c.TargetGroups {
		if c.TargetGroups[i].Name == name {
			return &c.TargetGroups[i]
		}
	}
	return nil
}

// FunctionByName returns the function called name, or nil.
func (c *Config) FunctionByName(name string) *Function {
	for i := range c.Functions {
		if c.Functions[i].Name == name {
			return &c.Functions[i]
		}
	}
	return nil
}

// functionIndex is FunctionByName returning the index, or -1.
func (c *Config) functionIndex(name string) int {
	for i := range c.Functions {
		if c.Functions[i].Name == name {
			return i
		}
	}
	return -1
}
