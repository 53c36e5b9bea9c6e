package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The one check every browser test runs on every page it visits (person.open and
// person.submit call it): nothing sticks out past the viewport's width (R24), every form
// control has an accessible label, text has enough contrast against its background (WCAG
// 1.4.3), and keyboard focus is visible. It reports what it finds by name, so a failure says
// which element to fix.

// overflowJS lists what is wider than the viewport: the document and the body scrolling
// sideways, and every rendered element whose right edge passes the viewport's (the layout
// viewport without its scrollbar: documentElement.clientWidth). Content inside a deliberate
// .scroll-x box scrolls in place and is left out; the box itself is not. Elements are named
// outermost first: the first one named sticks out of a parent that fits.
const overflowJS = `(() => {
	const de = document.documentElement, vw = de.clientWidth, out = [];
	if (de.scrollWidth > vw) out.push("the document scrolls sideways: scrollWidth " + de.scrollWidth + " > " + vw);
	if (document.body.scrollWidth > vw) out.push("the body scrolls sideways: scrollWidth " + document.body.scrollWidth + " > " + vw);
	` + namesJS + `
	const wide = new Set();
	for (const el of document.body.querySelectorAll("*")) {
		if (el.parentElement && el.parentElement.closest(".scroll-x")) continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		if (r.right <= vw + 0.5) continue;
		wide.add(el);
		if (wide.has(el.parentElement)) continue;
		const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 50);
		out.push(path(el) + ": right edge at " + Math.round(r.right) + " px of " + vw + (text ? " (" + JSON.stringify(text) + ")" : ""));
	}
	return out;
})()`

// labelsJS lists the form controls people cannot name: every input (but hidden ones and
// buttons, which are named by their value), select and textarea needs a label that points at
// it or wraps it (the control's labels), aria-label, or aria-labelledby naming elements that
// have text.
const labelsJS = `(() => {
	const out = [];
	const has = s => s && s.trim() !== "";
	for (const el of document.querySelectorAll("input, select, textarea")) {
		const type = (el.getAttribute("type") || "").toLowerCase();
		if (type === "hidden") continue;
		if (["submit", "button", "reset"].includes(type) && has(el.value)) continue;
		if (has(el.getAttribute("aria-label"))) continue;
		const by = el.getAttribute("aria-labelledby");
		if (has(by) && by.trim().split(/\s+/).every(id => { const l = document.getElementById(id); return l && has(l.textContent); })) continue;
		if (el.labels && [...el.labels].some(l => has(l.textContent))) continue;
		let s = el.tagName.toLowerCase();
		if (el.id) s += "#" + el.id;
		if (el.name) s += "[name=" + JSON.stringify(el.name) + "]";
		out.push(s + " has no accessible label");
	}
	return out;
})()`

// focusRuleJS reports whether the page's stylesheets style :focus-visible (Pico's and app.css),
// looking inside media rules too.
const focusRuleJS = `(() => {
	const walk = rules => [...rules].some(r => (r.selectorText && r.selectorText.includes(":focus-visible")) || (r.cssRules && walk(r.cssRules)));
	return [...document.styleSheets].some(s => { try { return walk(s.cssRules); } catch (e) { return false; } });
})()`

// focusShownJS reports how the element focused from the keyboard shows it: its outline or box
// shadow, or "" when it shows nothing (or nothing is focused).
const focusShownJS = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body || !el.matches(":focus-visible")) return "";
	el.getAnimations().forEach(a => a.finish()); // read the focus style as it settles, not a frame of its fade-in
	const cs = getComputedStyle(el);
	const outline = cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) > 0;
	const shadow = cs.boxShadow && cs.boxShadow !== "none";
	const what = (outline ? "outline " + cs.outlineWidth + " " + cs.outlineStyle : "") + (shadow ? " box-shadow " + cs.boxShadow : "");
	el.blur(); // leave the page as it was: screenshots follow
	return what.trim();
})()`

// contrastJS lists the text that is too faint to read (WCAG 2.x 1.4.3, contrast minimum): for
// every rendered element with text of its own — a text node child, the value of a form control,
// a placeholder shown in an empty one, or a ::before/::after's generated text — the contrast
// ratio of its computed colour against its effective background must be at least 4.5:1, or 3:1
// for large text (at least 24 px, or 18.66 px and bold). The effective background is found by
// walking up the ancestors to the first opaque background colour, compositing the translucent
// ones on the way; the page's (white) if none. A colour with alpha, and the opacity of the
// element and its ancestors, are blended into the text colour. Colours are read back through a
// canvas, so any CSS colour syntax works. Disabled controls are exempt (WCAG's inactive
// components), and so is SVG: the lifecycle diagram has TestLifecycleContrast.
const contrastJS = `(() => {
	const out = [];
	const cv = document.createElement("canvas");
	cv.width = cv.height = 1;
	const cx = cv.getContext("2d", { willReadFrequently: true });
	const cache = new Map();
	const rgba = c => { // any CSS colour → [r, g, b, a] with r, g, b in 0..255 and a in 0..1
		if (cache.has(c)) return cache.get(c);
		cx.clearRect(0, 0, 1, 1);
		cx.fillStyle = "#000";
		cx.fillStyle = c;
		cx.fillRect(0, 0, 1, 1);
		const d = cx.getImageData(0, 0, 1, 1).data;
		const v = d[3] === 0 ? [0, 0, 0, 0] : [d[0], d[1], d[2], d[3] / 255];
		cache.set(c, v);
		return v;
	};
	const over = (top, under) => { // top composited over an opaque colour
		const a = top[3];
		return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat(1);
	};
	const lum = c => {
		const ch = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
		return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2];
	};
	const hex = c => "#" + c.slice(0, 3).map(v => Math.round(v).toString(16).padStart(2, "0")).join("");
	const background = el => { // the opaque colour behind el's text
		const layers = [];
		for (let e = el; e; e = e.parentElement) {
			const c = rgba(getComputedStyle(e).backgroundColor);
			if (c[3] === 0) continue;
			layers.push(c);
			if (c[3] >= 1) break;
		}
		let bg = [255, 255, 255, 1];
		if (!layers.length || layers[layers.length - 1][3] < 1) {
			const page = rgba(getComputedStyle(document.documentElement).backgroundColor);
			if (page[3] > 0) bg = over(page, bg);
		}
		for (let i = layers.length - 1; i >= 0; i--) bg = over(layers[i], bg);
		return bg;
	};
	const opacity = el => { let o = 1; for (let e = el; e; e = e.parentElement) o *= parseFloat(getComputedStyle(e).opacity); return o; };
	` + namesJS + `
	const check = (el, cs, what, text) => {
		const fg0 = rgba(cs.color), bg = background(el);
		const fg = over([fg0[0], fg0[1], fg0[2], fg0[3] * opacity(el)], bg);
		const l1 = lum(fg), l2 = lum(bg);
		const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
		const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
		const large = size >= 24 || (size >= 18.66 && bold);
		const min = large ? 3 : 4.5;
		if (ratio + 1e-9 >= min) return;
		out.push("contrast " + ratio.toFixed(2) + ":1, under " + min + ":1" + (large ? " (large text)" : "") + ": " +
			path(el) + what + " " + JSON.stringify(text.trim().replace(/\s+/g, " ").slice(0, 40)) + ", " + hex(fg) + " on " + hex(bg));
	};
	for (const el of document.body.querySelectorAll("*")) {
		if (el instanceof SVGElement || el.closest("svg")) continue;
		const cs = getComputedStyle(el);
		if (cs.visibility !== "visible" || cs.display === "none") continue;
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0) continue;
		if (el.matches(":disabled") || el.closest("fieldset:disabled")) continue;
		if (opacity(el) === 0) continue;
		const own = [...el.childNodes].filter(n => n.nodeType === Node.TEXT_NODE).map(n => n.textContent).join("");
		if (own.trim() !== "" && !["SCRIPT", "STYLE", "OPTION", "TEXTAREA", "TITLE"].includes(el.tagName)) check(el, cs, "", own);
		if (el.matches("input:not([type=hidden],[type=checkbox],[type=radio],[type=file],[type=range],[type=color]), textarea, select")) {
			const shown = el.tagName === "SELECT" ? (el.selectedOptions[0] ? el.selectedOptions[0].text : "") : el.value;
			if (shown.trim() !== "") check(el, cs, " (its value)", shown);
			else if (el.placeholder && el.placeholder.trim() !== "") check(el, getComputedStyle(el, "::placeholder"), "::placeholder", el.placeholder);
		}
		for (const pseudo of ["::before", "::after"]) {
			const ps = getComputedStyle(el, pseudo);
			const content = ps.content;
			if (ps.display === "none" || !content || content === "none" || content === "normal" || !/[A-Za-z0-9]/.test(content)) continue;
			const text = content.startsWith("attr(") ? (el.getAttribute(content.slice(5, -1).trim()) || "") : content.replace(/^"|"$/g, "");
			if (text.trim() !== "") check(el, ps, pseudo, text);
		}
	}
	return out;
})()`

// namesJS defines name(el) and path(el), shared by the checks' scripts: an element named by its
// tag, ID, first classes and a few identifying attributes; a path of up to five of them from
// below body, so a failure says where to look.
const namesJS = `
	const name = el => {
		let s = el.tagName.toLowerCase();
		if (el.id) s += "#" + el.id;
		for (const c of [...el.classList].slice(0, 3)) s += "." + c;
		for (const a of ["data-label", "name", "href"]) if (el.hasAttribute(a)) s += "[" + a + "=" + JSON.stringify(el.getAttribute(a).slice(0, 40)) + "]";
		return s;
	};
	const path = el => {
		const p = [];
		for (let e = el; e && e !== document.body && p.length < 5; e = e.parentElement) p.unshift(name(e));
		return p.join(" > ");
	};
`

// pageProblems runs the checks on the page open in ctx and returns what fails, each naming its
// element. It is the function behind person.check, and TestPageCheckFails proves it can fail.
func pageProblems(ctx context.Context) ([]string, error) {
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	var problems []string
	for _, js := range []string{overflowJS, labelsJS, contrastJS} {
		found, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](js))
		if err != nil {
			return nil, err
		}
		problems = append(problems, found...)
	}
	rule, err := chromedp.Run(ctx, chromedp.Evaluate[bool](focusRuleJS))
	if err != nil {
		return nil, err
	}
	if !rule {
		problems = append(problems, "no stylesheet styles :focus-visible")
	}
	// The first Tab from the top of the page focuses its first link (the skip link): it must show.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`),
		chromedp.KeyEvent("\t")); err != nil {
		return nil, err
	}
	shown, err := chromedp.Run(ctx, chromedp.Evaluate[string](focusShownJS))
	if err != nil {
		return nil, err
	}
	if shown == "" {
		problems = append(problems, "keyboard focus is not visible: the element focused by Tab has no outline or box shadow")
	}
	return problems, nil
}

// check runs the page checks on what the person sees now and fails the test (without stopping
// it) for each problem, naming the page, the viewport and the element.
func (p *person) check() {
	p.t.Helper()
	problems, err := pageProblems(p.ctx)
	if err != nil {
		p.t.Fatalf("check the page (%s): %v", p.role, err)
	}
	if len(problems) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	where, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname + location.search + " at " + window.innerWidth + "×" + window.innerHeight`))
	p.t.Errorf("%s's page %s:\n  %s", p.role, where, strings.Join(problems, "\n  "))
}

// phone and laptop are the viewports the tests check every page at (R24).
var (
	phone  = viewport{390, 844}
	laptop = viewport{1280, 800}
)

type viewport struct{ w, h int64 }

func (v viewport) String() string { return fmt.Sprintf("%d×%d", v.w, v.h) }

// resize emulates the viewport: a phone (mobile, touch, portrait) below 500 px.
func (p *person) resize(v viewport) {
	p.t.Helper()
	var opts []chromedp.EmulateViewportOption
	if v.w < 500 {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	p.do("viewport "+v.String(), chromedp.EmulateViewport(v.w, v.h, opts...))
}

// TestPageCheckFails proves the page check can fail, and names what fails: pages served with
// the portal's own stylesheets, each broken one way, go through the same person.open and
// pageProblems every browser test uses. A 2000 px box sticks out at 390 px and at 1280 px —
// also when html and body hide their horizontal overflow, which made the old check pass; the
// same box inside a .scroll-x container does not count; an input without a label, text with too
// little contrast (WCAG 1.4.3), and a page whose focus is styled away, fail. R24
func TestPageCheckFails(t *testing.T) {
	const head = `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
		`<meta name="viewport" content="width=device-width, initial-scale=1"><title>check</title>` +
		`<link rel="stylesheet" href="/static/pico.min.css"><link rel="stylesheet" href="/static/app.css">`
	pages := map[string]string{
		"/fits":        `</head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Fits</h1><p>Short text.</p></main></body></html>`,
		"/wide":        `</head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Wide</h1><div id="too-wide" style="width:2000px">wide box</div></main></body></html>`,
		"/wide-hidden": `<style>html, body { overflow-x: hidden; }</style></head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Hidden</h1><table><tr><td><div id="hidden-wide" style="width:2000px">wide box</div></td></tr></table></main></body></html>`,
		"/scroll":      `</head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Scrolls in place</h1><div class="scroll-x" tabindex="0" aria-label="diagram"><div style="width:2000px">wide box</div></div></main></body></html>`,
		"/unlabelled":  `</head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Form</h1><form><label for="named">Named <input id="named" name="named"></label><label>Wrapped <select name="wrapped"><option>a</option></select></label><textarea aria-label="Note" name="note"></textarea><input id="nameless" name="nameless"><input type="hidden" name="k" value="v"></form></main></body></html>`,
		"/contrast": `<style>#faint::placeholder { color: #bbb; } #tagged::before { content: "Label: "; color: #ccc; }</style></head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>Contrast</h1>` +
			`<p id="pale" style="color:#999">Pale text</p><p id="large" style="color:#888;font-size:28px">Large grey text</p>` +
			`<p id="bold" style="color:#888;font-size:19px;font-weight:700">Bold grey text</p><p id="small" style="color:#888;font-size:16px">Small grey text</p>` +
			`<div style="background:#222"><span id="dark" style="color:#555">dark on dark</span> <span id="light" style="color:#fff">light on dark</span></div>` +
			`<div style="background:rgba(0,0,0,.5)"><span id="half" style="color:#666">on a translucent layer</span></div>` +
			`<p id="faded" style="color:#000;opacity:.3">faded black</p><p id="tagged">value</p>` +
			`<input id="faint" aria-label="Faint" placeholder="Faint hint" style="color:#000">` +
			`<button type="button" disabled style="color:#ccc;background:#fff">Disabled</button></main></body></html>`,
		"/focus-hidden": `<style>:focus, :focus-visible { outline: none !important; box-shadow: none !important; }</style></head><body><a class="skip-link" href="#main">Skip</a><main id="main" class="container"><h1>No focus</h1></main></body></html>`,
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.Dir("static"))))
	for path, body := range pages {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, head+body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	w := &world{t: t, srv: srv}
	p := w.person(browser(t), "visitor")
	problems := func(path string) string {
		t.Helper()
		p.visit(path)
		found, err := pageProblems(p.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Join(found, "\n")
	}
	for _, v := range []viewport{phone, laptop} {
		p.resize(v)
		if got := problems("/fits"); got != "" {
			t.Errorf("/fits at %s: %s", v, got)
		}
		if got := problems("/scroll"); got != "" {
			t.Errorf("/scroll at %s: content in a .scroll-x box counted: %s", v, got)
		}
		// The outermost element that sticks out is named: the box, or the table it widens.
		for path, named := range map[string]string{"/wide": "main#main.container > div#too-wide: right edge at",
			"/wide-hidden": "main#main.container > table: right edge at"} {
			if got := problems(path); !strings.Contains(got, named) {
				t.Errorf("%s at %s: the check does not name %q:\n%s", path, v, named, got)
			}
		}
	}
	got := problems("/unlabelled")
	if !strings.Contains(got, `input#nameless[name="nameless"] has no accessible label`) {
		t.Errorf("/unlabelled: the unlabelled input is not named:\n%s", got)
	}
	for _, ok := range []string{"named", "wrapped", "note", `"k"`} {
		if strings.Contains(got, ok) {
			t.Errorf("/unlabelled: a labelled or hidden control is reported (%s):\n%s", ok, got)
		}
	}
	// WCAG 1.4.3: small text needs 4.5:1 and large text 3:1 against the background behind it,
	// found through its ancestors (translucent layers composited); opacity, placeholders and
	// generated text count; a disabled control does not.
	got = problems("/contrast")
	for _, want := range []string{
		"contrast 2.85:1, under 4.5:1: main#main.container > p#pale \"Pale text\", #999999 on #ffffff",
		"contrast 3.54:1, under 4.5:1: main#main.container > p#small",
		"under 4.5:1: main#main.container > div > span#dark \"dark on dark\", #555555 on #222222",
		"under 4.5:1: main#main.container > div > span#half",
		"under 4.5:1: main#main.container > p#faded",
		"under 4.5:1: main#main.container > input#faint::placeholder \"Faint hint\"",
		"under 4.5:1: main#main.container > p#tagged::before \"Label:\"",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("/contrast: the check does not report %q:\n%s", want, got)
		}
	}
	for _, ok := range []string{"p#large", "p#bold", "span#light", "button", "p#tagged \""} {
		if strings.Contains(got, ok) {
			t.Errorf("/contrast: text with enough contrast, or disabled, is reported (%s):\n%s", ok, got)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 7 {
		t.Errorf("/contrast: %d problems, want 7:\n%s", n, got)
	}
	if got := problems("/focus-hidden"); !strings.Contains(got, "keyboard focus is not visible") {
		t.Errorf("/focus-hidden: focus styled away passes:\n%s", got)
	}
}
