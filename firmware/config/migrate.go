package config

import "slices"

// migrations[v] turns a configuration decoded from a version-v file into
// version v+1. Parse applies them in turn, from the file's version up to
// Version, before validating; a file is never rewritten on load, only the
// next save writes the current version.
//
// Every version's keys are a subset of the next one's, so a file of any
// version decodes into today's Config: a migration moves or converts
// values, and a key that is renamed keeps its old field (marked as such)
// until no supported version uses it.
var migrations = map[int]func(*Config){
	// Version 1 accepted a codec listed twice ("pcmu", "pcmu"), which
	// says nothing more than listing it once; version 2 refuses
	// duplicates, so the first mention of each codec is kept. Version 1
	// also let a flash start at 40 ms, inside the dial-pulse window the
	// hook detector keeps up to 100 ms, where no break can be told a
	// flash; version 2 starts at 100 ms.
	1: func(c *Config) {
		if c.Region.FlashMinMS > 0 && c.Region.FlashMinMS < 100 {
			c.Region.FlashMinMS = 100
		}
		var kept []string
		for _, cd := range c.SIP.Codecs {
			if !slices.Contains(kept, cd) {
				kept = append(kept, cd)
			}
		}
		c.SIP.Codecs = kept
	},
}

// migrate brings c from c.Version up to Version.
func migrate(c *Config) {
	for c.Version < Version {
		if m := migrations[c.Version]; m != nil {
			m(c)
		}
		c.Version++
	}
}
