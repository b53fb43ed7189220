// Drives `muster serve` in Debian's chromium (headless) with playwright-core.
// Started by crates/muster-web/tests/e2e.rs with MUSTER_URL (the server) and SCREENSHOT_DIR.
// Journey: open the demo's connector, read its trust report, approve it, see the approval in the audit log;
// then visit every other page. One full-page screenshot per page.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const base = process.env.MUSTER_URL;
const dir = process.env.SCREENSHOT_DIR || "screenshots";
if (!base) {
  console.error("MUSTER_URL is not set");
  process.exit(2);
}
mkdirSync(dir, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});

const problems = [];
const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
page.setDefaultTimeout(15000);
// A CSP violation, a script error or a failed asset shows up here.
page.on("console", (m) => {
  if (m.type() === "error") problems.push(`console: ${m.text()} (${m.location().url})`);
});
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
page.on("request", (r) => {
  if (!r.url().startsWith(base)) problems.push(`request outside the server: ${r.url()}`);
});

const shots = [];
async function shot(name) {
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  shots.push(path);
  console.log(`screenshot ${path}`);
}

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
  console.log(`ok: ${what}`);
}

async function text(selector) {
  return (await page.locator(selector).first().innerText()).trim();
}

try {
  // 1. The connectors.
  await page.goto(`${base}/connectors`);
  check((await page.title()).includes("Connectors"), "the connectors page opens");
  const row = page.locator("#connectors tbody tr", { hasText: "Acme Directory" });
  check((await row.count()) === 1, "the demo connector is listed");
  check((await row.innerText()).includes("held"), "a sync of it is held by the drift guard");
  check((await row.locator("td").nth(3).innerText()).trim() === "—", "no version is approved yet");
  await shot("01-connectors");

  // 2. Open the demo's connector.
  await row.locator("a", { hasText: "Acme Directory" }).click();
  await page.waitForURL(/\/connectors\/Acme%20Directory$/);
  check((await text("h1")).includes("Acme Directory"), "the connector page opens");
  check((await page.locator("pre.yaml .k").count()) > 20, "the YAML is highlighted");
  check((await page.locator("#versions tbody tr").count()) === 2, "two versions in the history");
  await shot("02-connector");

  // 3. Read its trust report.
  await page.click("#open-report");
  await page.waitForURL(/\/reports\/\d+$/);
  check((await text("h1")).startsWith("Trust report #"), "the trust report opens");
  const checks = await page.locator("table.checks tbody tr").count();
  check(checks >= 5, `the report lists its checks (${checks})`);
  check((await text(".report-head")).includes("passed"), "the report passed");
  await page.locator("details", { hasText: "Show the request log" }).locator("summary").click();
  check((await page.locator("#requests ~ details table tbody tr").count()) > 0, "the request log is there");
  check(!(await page.content()).includes("acme-demo-password"), "no credential on the page");
  await shot("03-trust-report");

  // 3b. The diff between the two versions.
  await page.goBack();
  await page.waitForURL(/\/connectors\/Acme%20Directory$/);
  await page.click("form.inline button[type=submit]");
  await page.waitForURL(/\/diff\?/);
  check((await page.locator("#semantic tbody tr").count()) >= 2, "the semantic diff lists the changes");
  check((await page.locator("table.sbs td.add").count()) > 0, "the side-by-side diff marks added lines");
  await shot("06-version-diff");

  // 4. Approve it.
  await page.goto(`${base}/connectors/Acme%20Directory`);
  const form = page.locator("#approve-form");
  await form.locator("input[name=name]").fill("Erin Reviewer");
  await form.locator("input[name=email]").fill("erin@example.com");
  await form.locator("textarea[name=comment]").fill("Trust report reviewed: 300 users, auth probes pass.");
  await Promise.all([page.waitForURL(/\/connectors\/Acme%20Directory$/), form.locator("button[type=submit]").click()]);
  const flash = await text(".flash");
  check(flash.includes("approved by Erin Reviewer <erin@example.com>"), `the approval is confirmed: ${flash}`);
  check((await text("#decisions-table tbody tr")).includes("Erin Reviewer"), "the decision is listed");
  await shot("04-approved");

  // 5. See the approval in the audit log.
  await page.click("header nav >> text=Audit");
  await page.waitForURL(/\/audit$/);
  check((await text("#audit-status")).includes("intact"), "the audit chain verifies");
  const first = await text("#audit tbody tr");
  check(first.includes("approve") && first.includes("Erin Reviewer <erin@example.com>"), `the newest entry is the approval: ${first}`);
  await shot("05-audit");

  // The other pages.
  await page.click("header nav >> text=Inventory");
  await page.waitForURL(/\/inventory$/);
  check((await text(".pager span")).includes("300 identities"), "the inventory holds the 300 demo users");
  await shot("07-inventory");
  await page.selectOption("select[name=type]", "service"); // auto-submits (app.js)
  await page.waitForURL(/type=service/);
  const services = await page.locator("#inventory tbody tr").count();
  check(services > 0 && services < 50, `filtering by service accounts (${services})`);
  await shot("08-inventory-service");
  await page.locator("#inventory tbody tr a").first().click();
  await page.waitForURL(/\/identities\//);
  check((await page.locator("#grants tbody tr").count()) >= 0, "an identity page opens");
  await shot("09-identity");
  await page.goto(`${base}/inventory?q=${encodeURIComponent("a")}&type=human`);
  await page.locator("#inventory tbody tr a").first().click();
  await page.waitForURL(/\/identities\//);
  await shot("10-identity-human");

  await page.click("header nav >> text=Non-human identities");
  await page.waitForURL(/\/nhi$/);
  const flags = await page.locator("#nhi .flag").count();
  check(flags > 0, `risk flags are shown (${flags})`);
  await shot("11-nhi");
  await page.click(".chip.flag.expired");
  await page.waitForURL(/flag=expired/);
  await shot("12-nhi-expired");

  await page.click("header nav >> text=Syncs");
  await page.waitForURL(/\/syncs$/);
  check((await page.locator("#syncs tbody tr.held form").count()) === 1, "the held sync offers Accept");
  await shot("13-syncs");
  await page.locator("#syncs tbody tr a").first().click();
  await page.waitForURL(/\/syncs\/\d+$/);
  check((await text("h1")).includes("held"), "the held sync's page opens");
  check((await text("h3")).startsWith("Gained access"), "it shows who gained access");
  const lost = await page.locator("ul.changes.del").first().locator("li").count();
  check(lost > 10, `and who lost it (${lost})`);
  await shot("14-sync-held");

  // Accept the held sync: it becomes current, and the connector is in production.
  const accept = page.locator("form.accept");
  await accept.locator("input[name=name]").fill("Olga Ops");
  await accept.locator("input[name=email]").fill("olga@example.com");
  await accept.locator("input[name=comment]").fill("Ten contractors left; memberships cleaned up.");
  await Promise.all([page.waitForURL(/\/syncs\/\d+$/), accept.locator("button[type=submit]").click()]);
  check((await text(".flash")).includes("is now the current snapshot"), "the sync is accepted");
  await shot("15-sync-accepted");
  await page.click("header nav >> text=Connectors");
  await page.waitForURL(/\/connectors$/);
  check((await text("#connectors tbody tr")).includes("production"), "the connector is now in production");
  await shot("16-connectors-production");
} catch (e) {
  await page.screenshot({ path: join(dir, "failure.png"), fullPage: true }).catch(() => {});
  console.error(`FAILED: ${e.message}\n(see ${join(dir, "failure.png")})`);
  await browser.close();
  process.exit(1);
}
await browser.close();
if (problems.length) {
  console.error("browser problems:\n" + problems.join("\n"));
  process.exit(1);
}
console.log(`e2e: ${shots.length} screenshots in ${dir}`);
