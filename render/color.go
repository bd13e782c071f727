package render

import (
	"strings"
	"unicode/utf8"
)

// Options are the choices the caller makes for a view.
type Options struct {
	// Color turns on ANSI colours and bold. The caller decides (a terminal,
	// -no-color, NO_COLOR); without it the output holds no escape codes.
	Color bool
}

// palette paints text when colour is on and returns it untouched otherwise.
type palette struct{ on bool }

const (
	ansiBold   = "1"
	ansiRed    = "31"
	ansiGreen  = "32"
	ansiYellow = "33"
	ansiCyan   = "36"
)

func (p palette) paint(s string, codes ...string) string {
	if !p.on || s == "" {
		return s
	}
	return "\x1b[" + strings.Join(codes, ";") + "m" + s + "\x1b[0m"
}

func (p palette) bold(s string) string { return p.paint(s, ansiBold) }

// mark draws a symbol right-aligned in a column three runes wide, so that
// "+", "<=" and "-/+" all put the object name in the same place.
func (p palette) mark(sym string) string {
	pad := strings.Repeat(" ", max(0, 3-utf8.RuneCountInString(sym)))
	switch sym {
	case "+":
		sym = p.paint(sym, ansiGreen)
	case "~", "↻":
		sym = p.paint(sym, ansiYellow)
	case "-":
		sym = p.paint(sym, ansiRed)
	case "<=":
		sym = p.paint(sym, ansiCyan)
	case "-/+":
		sym = p.paint("-", ansiRed) + "/" + p.paint("+", ansiGreen)
	}
	return pad + sym
}
