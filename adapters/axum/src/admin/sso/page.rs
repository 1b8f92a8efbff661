//! The default HTML of the SSO set-up page and of a test sign-in's result: plain forms,
//! and one small script (carrying the response's nonce) that reads a chosen metadata
//! file into the form as text.

use std::fmt::Write as _;

use jit_provisioning::org::OrgState;
use jit_provisioning_saml::Preset;

use super::sso_path;
use super::test::TestResult;
use super::view::{
    FieldProblem, SettingsForm, SsoView, TrustSummary, MAX_METADATA_BYTES, NO_ROLE, ROLES,
};
use crate::admin::csrf::CSRF_FIELD;
use crate::admin::page::{self, nav, notice_html, Section};
use crate::admin::Notice;
use crate::pages::escape_html;

/// The settings form's inputs, as text: drawn from the org, or as an admin submitted
/// them (shown again with their problems).
#[derive(Debug, Clone, Default)]
pub(crate) struct SettingsInputs {
    pub preset: String,
    pub jit: bool,
    pub default_role: String,
    pub group_roles: String,
    pub verified_domains: String,
    pub reauth_after_secs: String,
    pub force_authn: bool,
}

impl SettingsInputs {
    pub fn of(form: &SettingsForm) -> Self {
        SettingsInputs {
            preset: form.preset.clone(),
            jit: form.jit,
            default_role: form.default_role.clone(),
            group_roles: form
                .group_roles
                .iter()
                .map(|row| format!("{} = {}", row.group, row.role))
                .collect::<Vec<_>>()
                .join("\n"),
            verified_domains: form.verified_domains.join("\n"),
            reauth_after_secs: form
                .reauth_after_secs
                .map(|secs| secs.to_string())
                .unwrap_or_default(),
            force_authn: form.force_authn,
        }
    }
}

/// What one drawing of the SSO page shows besides the org.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drawing<'a> {
    pub admin: &'a str,
    pub csrf_token: &'a str,
    pub nonce: &'a str,
    pub notice: Option<&'a Notice>,
    /// The settings form as submitted, when it is shown again with its problems.
    pub inputs: Option<&'a SettingsInputs>,
    /// The problems of the last change, field by field.
    pub problems: &'a [FieldProblem],
    /// The metadata URL as submitted.
    pub metadata_url: &'a str,
    /// Whether the org's SCIM page is there, for the navigation.
    pub scim: bool,
}

fn problems_of(problems: &[FieldProblem], field: &str) -> String {
    problems
        .iter()
        .filter(|problem| problem.field == field)
        .fold(String::new(), |mut out, problem| {
            let _ = write!(
                out,
                "<p class=\"problem\" data-field=\"{}\" role=\"alert\">{}</p>",
                escape_html(field),
                escape_html(&problem.message)
            );
            out
        })
}

fn trust_table(id: &str, trust: &TrustSummary) -> String {
    let mut out = format!("<table id=\"{id}\"><tbody>");
    let row = |out: &mut String, label: &str, value: &str| {
        let _ = write!(
            out,
            "<tr><th>{label}</th><td><code>{}</code></td></tr>",
            escape_html(value)
        );
    };
    row(
        &mut out,
        "IdP entity id",
        trust.entity_id.as_deref().unwrap_or("(not known yet)"),
    );
    row(
        &mut out,
        "SSO URL",
        trust
            .sso_url
            .as_deref()
            .unwrap_or("(read when the metadata is fetched)"),
    );
    row(&mut out, "From", &trust.source);
    for (subject, not_after, fingerprint) in &trust.certificates {
        let until = not_after.map_or_else(
            || "no end".to_owned(),
            |at| at.format("%Y-%m-%d").to_string(),
        );
        row(
            &mut out,
            "Signing certificate",
            &format!("{subject}, valid until {until}, SHA-256 {fingerprint}"),
        );
    }
    if let Some(fingerprint) = &trust.fingerprint {
        row(&mut out, "Fingerprint", fingerprint);
    }
    if let Some((by, at)) = &trust.staged {
        row(
            &mut out,
            "Staged",
            &format!("by {by}, {}", at.format("%Y-%m-%d %H:%M UTC")),
        );
    }
    out.push_str("</tbody></table>");
    if let Some(problem) = &trust.problem {
        let _ = write!(out, "<p class=\"problem\">{}</p>", escape_html(problem));
    }
    out
}

/// A form of one button.
fn button_form(
    action: &str,
    hidden: &str,
    fields: &[(&str, &str)],
    id: &str,
    label: &str,
) -> String {
    let mut out = format!(
        "<form method=\"post\" action=\"{}\" id=\"{id}\">{hidden}",
        escape_html(action)
    );
    for (name, value) in fields {
        let _ = write!(
            out,
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
            escape_html(value)
        );
    }
    let _ = write!(
        out,
        "<button type=\"submit\">{}</button></form>",
        escape_html(label)
    );
    out
}

/// The SSO set-up page of `view`'s org.
pub(crate) fn render(view: &SsoView, drawing: &Drawing<'_>) -> String {
    let org = escape_html(&view.org);
    let token = escape_html(drawing.csrf_token);
    let hidden = format!("<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">");
    let version = view.version().to_string();
    let with_version =
        format!("{hidden}<input type=\"hidden\" name=\"version\" value=\"{version}\">");
    let mut body = nav(&view.org, Section::Sso, drawing.scim);
    let _ = write!(
        body,
        "<h1>SSO of {org}</h1><p class=\"note\">Signed in as {}. The org's SSO is <strong id=\"state\">{}</strong>; its settings are at version <span id=\"version\">{version}</span>.</p>",
        escape_html(drawing.admin),
        view.state(),
    );
    body.push_str(&notice_html(drawing.notice));
    body.push_str(&problems_of(drawing.problems, "general"));
    if let Some(problem) = &view.unreadable {
        let _ = write!(body, "<p class=\"problem\">{}</p>", escape_html(problem));
    }

    // 1. What the IdP's admin enters.
    let _ = write!(
        body,
        "<h2>1. Enter these in your IdP</h2><table id=\"sp-values\"><tbody><tr><th>SP entity id (audience)</th><td><code id=\"sp-entity-id\">{}</code></td></tr><tr><th>ACS URL (reply URL)</th><td><code id=\"acs-url\">{}</code></td></tr><tr><th>SP metadata URL</th><td><code id=\"sp-metadata-url\">{}</code></td></tr></tbody></table><p><a id=\"sp-metadata-download\" href=\"{}\" download>Download the SP metadata (XML)</a></p>",
        escape_html(&view.sp.entity_id),
        escape_html(&view.sp.acs_url),
        escape_html(&view.sp.metadata_url),
        escape_html(&sso_path(&view.org, "/sp-metadata.xml")),
    );

    let Some(_) = &view.record else {
        body.push_str("<p class=\"note\" id=\"fixed\">This site's organizations come from its config file: their SSO settings change there, not on this page.</p>");
        return layout(&format!("SSO of {}", view.org), drawing, &body, "");
    };

    // 2. The IdP's trust.
    body.push_str("<h2>2. Your IdP's trust</h2><h3>In use</h3>");
    match &view.active {
        Some(active) => body.push_str(&trust_table("trust-active", active)),
        None => body.push_str("<p id=\"no-active-trust\" class=\"note\">None yet: no one can sign in through SSO. Stage your IdP's metadata below, test it, then activate it.</p>"),
    }
    body.push_str("<h3>Pending</h3>");
    match &view.pending_summary {
        Some(pending) => {
            body.push_str(&trust_table("trust-pending", pending));
            match &pending.passed {
                Some(passed) => {
                    let _ = write!(
                        body,
                        "<p id=\"pending-status\" class=\"done\">A test sign-in as <code>{}</code> passed with this trust ({} by {}). Activate it to make it the trust in use{}.</p>",
                        escape_html(&passed.subject),
                        passed.at.format("%Y-%m-%d %H:%M UTC"),
                        escape_html(&passed.by),
                        if view.state() == OrgState::Draft { " and open sign-ins" } else { "" },
                    );
                    let fingerprint = pending.fingerprint.clone().unwrap_or_default();
                    body.push_str(&button_form(
                        &sso_path(&view.org, "/activate"),
                        &hidden,
                        &[("fingerprint", &fingerprint)],
                        "activate",
                        &activate_label(view.state()),
                    ));
                }
                None => body.push_str("<p id=\"pending-status\" class=\"note\">Not tested yet: sign-ins still use the trust in use. Test a sign-in with it; once one passes, you can activate it.</p>"),
            }
            body.push_str(&button_form(
                &sso_path(&view.org, "/test"),
                &hidden,
                &[],
                "test",
                "Test sign-in with the pending trust",
            ));
        }
        None => {
            body.push_str("<p id=\"no-pending-trust\" class=\"note\">Nothing pending.</p>");
            if view.active.is_some() {
                body.push_str(&button_form(
                    &sso_path(&view.org, "/test"),
                    &hidden,
                    &[],
                    "test",
                    "Test sign-in with the trust in use",
                ));
            }
        }
    }
    let megabytes = MAX_METADATA_BYTES / (1024 * 1024);
    let _ = write!(
        body,
        "<h3>Stage new IdP metadata</h3><p class=\"note\">A new trust is staged as pending: sign-ins go on with the trust in use until a test sign-in passes with the new one and you activate it. At most {megabytes} MB.</p><form method=\"post\" action=\"{}\" id=\"metadata-form\">{with_version}<input type=\"hidden\" name=\"metadata_source\" id=\"metadata-source\" value=\"pasted\"><p><label>Paste the IdP's metadata XML<br><textarea name=\"metadata\" id=\"metadata\" rows=\"6\" cols=\"80\"></textarea></label></p><p><label>or choose its file <input type=\"file\" id=\"metadata-file\" accept=\".xml,application/xml,text/xml,application/samlmetadata+xml\"></label></p><p><label>or give its URL (fetched now, and again when it expires) <input name=\"metadata_url\" id=\"metadata-url\" size=\"60\" value=\"{}\"></label></p>{}<p><button type=\"submit\">Stage as pending</button></p></form>",
        escape_html(&sso_path(&view.org, "/metadata")),
        escape_html(drawing.metadata_url),
        problems_of(drawing.problems, "metadata"),
    );
    body.push_str(&problems_of(drawing.problems, "trust"));

    // 3. Settings.
    let drawn = SettingsInputs::of(&view.form);
    let inputs = drawing.inputs.unwrap_or(&drawn);
    let presets = Preset::ALL.iter().fold(String::new(), |mut out, preset| {
        let chosen = if preset.as_str() == inputs.preset {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option value=\"{preset}\"{chosen}>{preset}</option>");
        out
    });
    let detected = match view.detected {
        Some(preset) => format!(
            "<span id=\"preset-detected\">With <code>auto</code>, every preset's attribute names are read; this IdP looks like <strong>{preset}</strong> (from its entity id or SSO URL).</span>"
        ),
        None => "<span id=\"preset-detected\">With <code>auto</code>, every preset's attribute names are read; nothing in this IdP's entity id or SSO URL says which IdP it is.</span>".to_owned(),
    };
    let roles = ROLES
        .iter()
        .map(ToString::to_string)
        .chain(std::iter::once(NO_ROLE.to_owned()))
        .fold(String::new(), |mut out, role| {
            let chosen = if role == inputs.default_role {
                " selected"
            } else {
                ""
            };
            let label = if role == NO_ROLE {
                "none (not a member)"
            } else {
                role.as_str()
            };
            let _ = write!(out, "<option value=\"{role}\"{chosen}>{label}</option>");
            out
        });
    let checked = |on: bool| if on { " checked" } else { "" };
    let _ = write!(
        body,
        "<h2>3. Settings</h2><form method=\"post\" action=\"{action}\" id=\"settings\">{with_version}\
<p><label>Attribute preset <select name=\"preset\">{presets}</select></label><br><span class=\"note\">{detected}</span></p>{p_preset}\
<p><label><input type=\"checkbox\" name=\"jit\" value=\"on\"{jit}> JIT sign-ins: people sign in through the IdP, and get an account the first time</label></p>{p_jit}\
<p><label>Role of a new account in {org} <select name=\"default_role\">{roles}</select></label></p>{p_role}\
<p><label>Group → role, one a line (<code>group = role</code>)<br><textarea name=\"group_roles\" rows=\"4\" cols=\"60\">{groups}</textarea></label></p>{p_groups}\
<p><label>Verified email domains, one a line<br><textarea name=\"verified_domains\" rows=\"3\" cols=\"60\">{domains}</textarea></label></p>{p_domains}\
<p><label>Sign in again through the IdP after (seconds; empty: 43200, 12 hours) <input name=\"reauth_after_secs\" inputmode=\"numeric\" value=\"{reauth}\"></label></p>{p_reauth}\
<p><label><input type=\"checkbox\" name=\"force_authn\" value=\"on\"{force}> Ask the IdP to authenticate the person again at each trip (ForceAuthn)</label></p>\
<p><button type=\"submit\">Save settings</button></p></form>",
        action = escape_html(&sso_path(&view.org, "/settings")),
        p_preset = problems_of(drawing.problems, "preset"),
        jit = checked(inputs.jit),
        p_jit = problems_of(drawing.problems, "jit"),
        p_role = problems_of(drawing.problems, "default_role"),
        groups = escape_html(&inputs.group_roles),
        p_groups = problems_of(drawing.problems, "group_roles"),
        domains = escape_html(&inputs.verified_domains),
        p_domains = problems_of(drawing.problems, "verified_domains"),
        reauth = escape_html(&inputs.reauth_after_secs),
        p_reauth = problems_of(drawing.problems, "reauth_after_secs"),
        force = checked(inputs.force_authn),
    );
    // Reads a chosen file into the form as text; without scripts, paste it.
    let script = format!(
        "<script nonce=\"{nonce}\">(function(){{var f=document.getElementById('metadata-file');if(!f)return;f.addEventListener('change',function(){{var file=f.files&&f.files[0];if(!file)return;if(file.size>{MAX_METADATA_BYTES}){{alert('This file is over the {megabytes} MB limit.');f.value='';return;}}file.text().then(function(text){{document.getElementById('metadata').value=text;document.getElementById('metadata-source').value='uploaded';}});}});}})();</script>",
        nonce = escape_html(drawing.nonce),
    );
    layout(&format!("SSO of {}", view.org), drawing, &body, &script)
}

fn activate_label(state: OrgState) -> String {
    match state {
        OrgState::Draft => "Activate this trust and open sign-ins".to_owned(),
        _ => "Activate this trust".to_owned(),
    }
}

/// The result page of a test sign-in.
pub(crate) fn render_result(result: &TestResult, drawing: &Drawing<'_>) -> String {
    let org = &result.org;
    let token = escape_html(drawing.csrf_token);
    let hidden = format!("<input type=\"hidden\" name=\"{CSRF_FIELD}\" value=\"{token}\">");
    let mut body = String::new();
    let verdict = if result.passed { "passed" } else { "failed" };
    let tried = match &result.trust {
        Some(trust) => format!(
            "the pending IdP trust <code>{}</code>",
            escape_html(&trust.chars().take(12).collect::<String>())
        ),
        None => "the IdP trust in use".to_owned(),
    };
    let _ = write!(
        body,
        "<h1>Test sign-in {verdict}</h1><p id=\"summary\" class=\"{}\">A test sign-in with {tried}{}, {} by {}. No one was signed in, and nothing was created or changed.</p>",
        if result.passed { "done" } else { "refused" },
        result
            .entity_id
            .as_deref()
            .map(|idp| format!(" of <code>{}</code>", escape_html(idp)))
            .unwrap_or_default(),
        result.at.format("%Y-%m-%d %H:%M UTC"),
        escape_html(&result.by),
    );
    body.push_str(&notice_html(drawing.notice));
    for note in &result.notes {
        let _ = write!(body, "<p class=\"note\">{}</p>", escape_html(note));
    }
    if let Some(failure) = &result.failure {
        let _ = write!(
            body,
            "<p id=\"failure\" class=\"problem\">The check <code>{}</code> failed: {}</p>",
            escape_html(&failure.check),
            escape_html(&failure.detail)
        );
    }

    body.push_str("<h2>Checks</h2><table id=\"checks\"><thead><tr><th>Check</th><th>Result</th><th>Detail</th></tr></thead><tbody>");
    for check in &result.checks {
        let _ = write!(
            body,
            "<tr class=\"{}\"><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape_html(&check.result),
            escape_html(&check.check),
            escape_html(&check.result),
            escape_html(&check.detail)
        );
    }
    body.push_str("</tbody></table>");

    let _ = write!(
        body,
        "<h2>Attributes received</h2><p class=\"note\">{}{}</p>",
        if result.attributes_verified {
            "From the verified assertion."
        } else {
            "NOT verified: what the response claims, for you to compare with the IdP's set-up."
        },
        result
            .name_id
            .as_deref()
            .map(|name_id| format!(
                " NameID: <code id=\"name-id\">{}</code>.",
                escape_html(name_id)
            ))
            .unwrap_or_default(),
    );
    if result.attributes.is_empty() {
        body.push_str("<p id=\"no-attributes\" class=\"note\">None.</p>");
    } else {
        body.push_str(
            "<table id=\"attributes\"><thead><tr><th>Name</th><th>Values</th></tr></thead><tbody>",
        );
        for attribute in &result.attributes {
            let _ = write!(
                body,
                "<tr><td><code>{}</code></td><td>{}</td></tr>",
                escape_html(&attribute.name),
                escape_html(&attribute.values.join(", "))
            );
        }
        body.push_str("</tbody></table>");
    }

    if let Some(mapped) = &result.mapped {
        let row = |label: &str, value: &str| {
            format!("<tr><th>{label}</th><td>{}</td></tr>", escape_html(value))
        };
        let _ = write!(
            body,
            "<h2>What they map to</h2><table id=\"mapped\"><tbody>{}{}{}{}{}</tbody></table>",
            row("Subject", &mapped.subject),
            row("Given name", mapped.given_name.as_deref().unwrap_or("")),
            row("Family name", mapped.family_name.as_deref().unwrap_or("")),
            row("Email", mapped.email.as_deref().unwrap_or("")),
            row(
                "Groups",
                &format!(
                    "{}{}",
                    mapped.groups.join(", "),
                    if mapped.groups_incomplete {
                        " (only part of them: the IdP sent an overage claim)"
                    } else {
                        ""
                    }
                )
            ),
        );
    }
    if let Some(decision) = &result.decision {
        let roles = decision
            .roles
            .iter()
            .map(|(org, role)| format!("{role} in {org}"))
            .collect::<Vec<_>>()
            .join(", ");
        let handle = match (&decision.handle, decision.creates_account) {
            (Some(handle), true) => format!("{handle} (a new account would be created)"),
            (Some(handle), false) => format!("{handle} (an existing account)"),
            (None, _) => "(none)".to_owned(),
        };
        let _ = write!(
            body,
            "<h2>What the sign-in would do</h2><table id=\"decision\"><tbody><tr><th>Outcome</th><td id=\"outcome\">{}</td></tr><tr><th>Rule</th><td><code id=\"rule\">{}</code>: {}</td></tr><tr><th>Handle</th><td id=\"handle\">{}</td></tr><tr><th>Roles</th><td id=\"roles\">{}</td></tr>{}</tbody></table><pre id=\"explanation\">{}</pre>",
            escape_html(&decision.outcome),
            escape_html(&decision.rule),
            escape_html(&decision.statement),
            escape_html(&handle),
            escape_html(if roles.is_empty() { "none" } else { &roles }),
            decision
                .message
                .as_deref()
                .map(|message| format!("<tr><th>They would be told</th><td>{}</td></tr>", escape_html(message)))
                .unwrap_or_default(),
            escape_html(&decision.explanation),
        );
    }

    match (&result.trust, result.activatable) {
        (Some(trust), true) => {
            let state = if result.opens {
                OrgState::Draft
            } else {
                OrgState::Active
            };
            let _ = write!(
                body,
                "<h2>Activate</h2><p>The test passed with exactly this pending trust: activate it to make it the trust every sign-in of {} uses{}.</p>",
                escape_html(org),
                if result.opens { ", and to open the org's sign-ins (it is a draft)" } else { "" },
            );
            body.push_str(&button_form(
                &sso_path(org, "/activate"),
                &hidden,
                &[("fingerprint", trust)],
                "activate",
                &activate_label(state),
            ));
        }
        (Some(_), false) => {
            body.push_str("<p id=\"still-pending\" class=\"note\">The pending trust stays pending, and sign-ins go on with the trust in use.</p>");
            body.push_str(&button_form(
                &sso_path(org, "/test"),
                &hidden,
                &[],
                "test",
                "Test sign-in again",
            ));
        }
        (None, _) => {}
    }
    let _ = write!(
        body,
        "<p><a id=\"back\" href=\"{}\">Back to the SSO page</a></p>",
        escape_html(&sso_path(org, ""))
    );
    layout(&format!("Test sign-in of {org}"), drawing, &body, "")
}

fn layout(title: &str, drawing: &Drawing<'_>, body: &str, script: &str) -> String {
    page::layout(title, drawing.csrf_token, drawing.nonce, body, script)
}
