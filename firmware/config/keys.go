package config

import (
	"fmt"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

// keyLines maps the dotted path of every key in a TOML document to its line.
// Entries of an array of tables are numbered from 1, as in "line[2].port",
// matching the keys validate reports. A document that does not parse yields
// what was found before the error.
func keyLines(data []byte) map[string]int {
	lines := map[string]int{}
	var p unstable.Parser
	p.Reset(data)
	var table string
	arrays := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			name := joinKey(e.Key())
			if e.Kind == unstable.ArrayTable {
				arrays[name]++
				name = fmt.Sprintf("%s[%d]", name, arrays[name])
			}
			table = name
			lines[table] = line(&p, e)
		case unstable.KeyValue:
			key := joinKey(e.Key())
			if table != "" {
				key = table + "." + key
			}
			lines[key] = line(&p, e)
		}
	}
	return lines
}

func joinKey(it unstable.Iterator) string {
	var parts []string
	for it.Next() {
		parts = append(parts, string(it.Node().Data))
	}
	return strings.Join(parts, ".")
}

func line(p *unstable.Parser, e *unstable.Node) int {
	k := e.Key()
	if k.Next() {
		return p.Shape(k.Node().Raw).Start.Line
	}
	return 0
}
