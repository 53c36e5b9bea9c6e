// Package quality holds the ISO 2859-1 sampling plans, the specification linter, the
// inspection verdict, the dispute comparison and the purchase contract PDF: pure functions, no
// I/O; the standard library only, except codeberg.org/go-pdf/fpdf for the PDF.
package quality
