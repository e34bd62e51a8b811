// Follows a running campaign's progress without reloading the page: every
// two seconds it reads the progress JSON and updates the bar and the
// counts. When the campaign stops running it reloads once, without the
// action's banner, so the page shows the state and actions that now
// apply. Without JavaScript the page refreshes itself instead (a
// <noscript> refresh).
(function () {
	"use strict";
	var live = document.querySelector("[data-testid=campaign-live]");
	if (!live || live.getAttribute("data-live") !== "true") return;
	var url = live.getAttribute("data-progress-url");
	var bar = document.getElementById("progress");
	var text = document.getElementById("progress-text");
	var lang = document.documentElement.lang || "nb";
	var fmt = new Intl.NumberFormat(lang === "en" ? "en-GB" : "nb-NO");
	var template = text.getAttribute("data-template");

	function setCounts(prefix, counts) {
		live.querySelectorAll("td[data-testid^='" + prefix + "']").forEach(function (cell) {
			var key = cell.getAttribute("data-testid").slice(prefix.length);
			var n = counts[key] || 0;
			cell.setAttribute("data-count", String(n));
			cell.textContent = fmt.format(n);
		});
	}

	function tick() {
		fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
			.then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
			.then(function (p) {
				bar.max = Math.max(p.valid, 1);
				bar.value = p.finished;
				text.setAttribute("data-finished", String(p.finished));
				text.setAttribute("data-valid", String(p.valid));
				text.textContent = template.replace("{finished}", fmt.format(p.finished)).replace("{valid}", fmt.format(p.valid));
				setCounts("item-", p.items);
				setCounts("status-", p.statuses);
				setCounts("customer-", p.customers || {});
				if (p.status !== "running") {
					// Reload without the action's banner (?done=start): it
					// described a state that has ended.
					var u = new URL(window.location.href);
					u.searchParams.delete("done");
					window.location.replace(u.toString());
					return;
				}
				setTimeout(tick, 2000);
			})
			.catch(function () { setTimeout(tick, 5000); });
	}
	setTimeout(tick, 1000);
})();
