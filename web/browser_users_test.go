package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserAdminUsers ensures an admin reaches a supplier's users from the menu, sees a bad
// email refused next to its field with what was typed kept, adds the user from the keyboard and
// is shown the one-time password; the users pages fit 390 px and 1280 px (R24).
func TestBrowserAdminUsers(t *testing.T) {
	w := newWorld(t, sqliteURL(t))
	sup := w.supplierID()
	_, _, err := w.acc.CreateAPIKeyOnce(w.ctx, w.admin, "seed", sup, "supplier", "Marketplace order sync")
	w.must("key", err)
	admin := w.person(browser(t), "admin")
	admin.login()
	admin.do("open the users from the menu",
		chromedp.Click(chromedp.CSS(`header nav a[href="/admin/users"]`)), waitText("Platform staff"))
	admin.do("open the supplier", chromedp.Click(chromedp.CSS(`a[href="/admin/users/`+sup+`"]`)),
		waitText("Issue an API key"), chromedp.WaitVisible(chromedp.ID("f-email")))
	admin.do("type a bad email",
		chromedp.SendKeys(chromedp.ID("f-email"), "li.wei at sunrise"),
		chromedp.SendKeys(chromedp.ID("f-name"), "Li Wei"),
		chromedp.Click(chromedp.CSS("#add-user button[type=submit]")),
		waitText("Give a plain email address."),
		chromedp.WaitVisible(chromedp.ID("f-email-error")))
	if got := run(admin, "name kept", chromedp.Value(chromedp.ID("f-name"))); got != "Li Wei" {
		t.Errorf("the name typed became %q", got)
	}
	if got := run(admin, "email kept", chromedp.Value(chromedp.ID("f-email"))); got != "li.wei at sunrise" {
		t.Errorf("the email typed became %q", got)
	}
	admin.do("correct it and press Enter",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("f-email").value = ""`),
		chromedp.SendKeys(chromedp.ID("f-email"), "li.wei@sunrise.test\r"),
		waitText("One-time password for li.wei@sunrise.test"),
		chromedp.WaitVisible(chromedp.CSS("code.secret-value")))
	admin.has("the new user", "Li Wei", "Marketplace order sync")

	for _, size := range []viewport{phone, laptop} {
		for _, path := range []string{"/admin/users", "/admin/users/" + sup} {
			admin.resize(size)
			admin.open(path) // checks the page at this width
		}
	}
}
