// Package quality holds the ISO 2859-1 sampling plans, the specification linter and the
// inspection verdict: pure functions, standard library only.
package quality
