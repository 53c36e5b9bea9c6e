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
