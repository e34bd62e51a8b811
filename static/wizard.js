// The wizard's optional script; every page works without it.
//  - A form marked data-busy-form that sends the customer to Altinn shows
//    that it is working once submitted: its submit button is disabled and
//    its [data-busy] line (a spinner and "Sending you to Altinn …") shown,
//    so a slow Altinn gives feedback and a second click does not resubmit.
//    Coming back with the browser's Back button (bfcache) resets it.
//  - A button with data-copy="<input id>" appears (its data-copy-wrap
//    is hidden without script), and copies that input's
//    value (the escalated request's link), saying so in its status line.
//    The dashboard uses the same buttons (views/copy.templ: copyButton)
//    for approval links, API keys and one-time passwords.
// The script may be included more than once on a page; it runs once.
(function () {
	"use strict";
	if (window.onboardWizardJS) return;
	window.onboardWizardJS = true;

	function reset(form) {
		form.removeAttribute("data-submitted");
		form.querySelectorAll("button[type=submit]").forEach(function (b) {
			b.disabled = false;
			b.removeAttribute("aria-disabled");
		});
		form.querySelectorAll("[data-busy]").forEach(function (el) { el.hidden = true; });
	}

	document.querySelectorAll("form[data-busy-form]").forEach(function (form) {
		form.addEventListener("submit", function (ev) {
			if (form.getAttribute("data-submitted") === "true") {
				ev.preventDefault();
				return;
			}
			form.setAttribute("data-submitted", "true");
			form.querySelectorAll("[data-busy]").forEach(function (el) { el.hidden = false; });
			// Disabled after the submit has started, so the browser still sends it.
			window.setTimeout(function () {
				form.querySelectorAll("button[type=submit]").forEach(function (b) {
					b.disabled = true;
					b.setAttribute("aria-disabled", "true");
				});
			}, 0);
		});
	});
	window.addEventListener("pageshow", function (ev) {
		if (ev.persisted) {
			document.querySelectorAll("form[data-busy-form]").forEach(reset);
		}
	});

	document.querySelectorAll("button[data-copy]").forEach(function (btn) {
		var input = document.getElementById(btn.getAttribute("data-copy"));
		if (!input) return;
		var wrap = btn.closest("[data-copy-wrap]") || btn;
		var status = wrap.parentNode.querySelector("[data-copy-status]");
		wrap.hidden = false;
		btn.addEventListener("click", function () {
			input.focus();
			input.select();
			var done = function () { if (status) status.textContent = btn.getAttribute("data-copied") || ""; };
			var fallback = function () {
				try { if (document.execCommand("copy")) done(); } catch (e) { /* the link stays selected to copy by hand */ }
			};
			if (navigator.clipboard && navigator.clipboard.writeText) {
				navigator.clipboard.writeText(input.value).then(done, fallback);
			} else {
				fallback();
			}
		});
	});
})();
