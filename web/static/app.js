// tradeassure portal: progressive enhancement only; every page works without it.

// On a narrow screen the lifecycle diagram scrolls sideways: start with the current state in view.
document.addEventListener("DOMContentLoaded", function () {
	document.querySelectorAll(".scroll-x").forEach(function (box) {
		var cur = box.querySelector(".current rect");
		if (!cur || box.scrollWidth <= box.clientWidth) {
			return;
		}
		var r = cur.getBoundingClientRect(), b = box.getBoundingClientRect();
		box.scrollLeft += (r.left - b.left) - (b.width - r.width) / 2;
	});
});

// A link drawn as a button (role="button", Pico's way of styling one) is announced as a button,
// so it answers Space as a button does, not only Enter as a link does (the WAI-ARIA button
// pattern). Without this script it still answers Enter.
document.addEventListener("keydown", function (e) {
	var el = e.target;
	if (e.key !== " " || e.repeat || e.altKey || e.ctrlKey || e.metaKey || !el.matches || !el.matches('a[role="button"][href]')) {
		return;
	}
	e.preventDefault(); // a space would scroll the page instead
	el.click();
});
