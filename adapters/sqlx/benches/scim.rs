//! The SCIM service over the SQL store, at 100,000 SCIM users of one org: a PATCH adding
//! 10,000 members to a group (Okta's and Entra ID's `add` of `members`), and a list
//! filtered by `userName` and by `emails.value`, with two unfiltered pages beside them
//! (the first, and one from the middle).
//! Each timed request is what an app server does for one HTTP request once its bearer
//! token is checked: `ScimRequest::parse` of the method, path, query and body, then
//! `ScimService::handle` down to the store and back.
//!
//! The group maps to `contributor` at the org under `"scim_roles": "follow"`, so the
//! PATCH changes the role of all 10,000 members in the same request, the worst case;
//! each PATCH meets a new, empty group (the previous one deleted, which lowers the roles
//! again, and a new one created, both outside the timing).
//!
//! The statements each request sends are counted once, outside the timing, and printed:
//! sqlx reports every statement it runs to the `log` facade, which a counting logger
//! here listens to only while a counted request runs. The PATCH is counted at 10 and at
//! 10,000 members, and the bench fails if the counts differ: the round trips of a
//! request must not grow with the group.
//!
//! PostgreSQL when `JIT_PROVISIONING_PG_URL` names a database the bench may create
//! schemas in (a fresh one, dropped at the end); a temporary SQLite file otherwise. The
//! users are seeded in bulk with SQL. In criterion's test mode (`cargo test --bench scim`)
//! 10,000 users are seeded, enough for the 10,000-member PATCH. See `BENCHMARKS.md`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // benches fail loudly

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode};
use jit_provisioning::{Config, NoSessionRevoker, Policy, ScimGroups, ScimUsers};
use jit_provisioning_scim::{ScimRequest, ScimResponse, ScimService};
use serde_json::{json, Value};
use tokio::runtime::Runtime;

use common::{now, Db, IDP};

/// SCIM users of the org.
const USERS: usize = 100_000;
/// SCIM users in criterion's test mode: as many as the PATCH adds.
const TEST_USERS: usize = MEMBERS;
/// Members one PATCH adds: the SCIM layer's limit per request.
const MEMBERS: usize = jit_provisioning_scim::MAX_MEMBERS_PER_REQUEST;
/// Users an unfiltered page lists.
const PAGE: usize = 100;

/// The group the PATCH fills; the policy maps it to `contributor`.
const GROUP: &str = "bench-contributors";
const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const POSTGRES: &str = "PostgreSQL";

/// Criterion's test mode: `cargo test` runs a bench without `--bench`.
fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|arg| arg == "--test") || !args.iter().any(|arg| arg == "--bench")
}

/// Acme, with its IdP (SCIM users pre-link identities of it), `member` for everyone it
/// provisions, and [`GROUP`] mapped to `contributor`; under `follow`, leaving the group
/// lowers the role back to `member`.
fn policy() -> Policy {
    let config: Config = serde_json::from_str(&format!(
        r#"{{"orgs": {{"acme": {{"jit": true, "idp": "{IDP}", "scim_roles": "follow",
            "provision": [{{"org": "acme", "role": "member"}}],
            "group_roles": [{{"group": "{GROUP}", "org": "acme", "role": "contributor"}}]}}}}}}"#
    ))
    .unwrap();
    config.validate().unwrap()
}

fn scim_service<S: ScimUsers + ScimGroups + Clone + 'static>(store: S) -> ScimService {
    ScimService::new(
        Arc::new(store.clone()),
        policy(),
        Arc::new(NoSessionRevoker),
        "https://app.example/scim/v2",
    )
    .with_groups(Arc::new(store))
}

/// Parses and serves one request at acme, as a route would after the token check.
async fn send(
    service: &ScimService,
    method: &str,
    path: &str,
    query: &str,
    body: &[u8],
) -> ScimResponse {
    let operation = ScimRequest::parse(method, path, query, body)
        .unwrap_or_else(|refusal| panic!("{method} {path}?{query} refused: {refusal:?}"));
    service.handle("acme", operation, now()).await
}

fn body(response: &ScimResponse) -> &Value {
    response.body.as_ref().unwrap()
}

/// The statements sqlx runs while [`StatementLog::count`] awaits: sqlx logs each one at
/// `DEBUG`, target `sqlx::query` (by default; slower than a second, at `WARN` instead:
/// still once). Outside a count the log level is off, so the timed requests pay nothing
/// for it.
struct StatementLog {
    counting: AtomicBool,
    statements: Mutex<Vec<String>>,
}

static STATEMENTS: StatementLog = StatementLog {
    counting: AtomicBool::new(false),
    statements: Mutex::new(Vec::new()),
};

impl log::Log for StatementLog {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query" && self.counting.load(Ordering::Relaxed)
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            // sqlx's summary: the statement's first words (the whole text follows it).
            let text = record.args().to_string();
            let summary = text.split(" db.statement").next().unwrap_or(&text);
            let summary = summary.trim_start_matches("summary=").trim_matches('"');
            self.statements.lock().unwrap().push(summary.to_owned());
        }
    }

    fn flush(&self) {}
}

impl StatementLog {
    fn install() {
        log::set_logger(&STATEMENTS).expect("no other logger in this bench");
        log::set_max_level(log::LevelFilter::Off);
    }

    /// Runs `request` alone on the runtime and returns its response and the statements it
    /// sent.
    fn count(
        runtime: &Runtime,
        request: impl std::future::Future<Output = ScimResponse>,
    ) -> (ScimResponse, Vec<String>) {
        STATEMENTS.statements.lock().unwrap().clear();
        STATEMENTS.counting.store(true, Ordering::Relaxed);
        log::set_max_level(log::LevelFilter::Trace);
        let response = runtime.block_on(request);
        log::set_max_level(log::LevelFilter::Off);
        STATEMENTS.counting.store(false, Ordering::Relaxed);
        let statements = std::mem::take(&mut *STATEMENTS.statements.lock().unwrap());
        (response, statements)
    }
}

/// Prints what a counted request sent. On PostgreSQL, also its round trips: one per
/// statement, and one per transaction for its `BEGIN`, which sqlx sends (and waits for)
/// without logging it. The first use of a statement on a connection also prepares it, one
/// more round trip; a warm pool's connections have them prepared, so they are not
/// counted. (SQLite's `BEGIN IMMEDIATE` and `COMMIT` are not logged either; there they are
/// calls into the library, not round trips.)
fn report(backend: &str, request: &str, statements: &[String]) {
    let mut line = format!(
        "scim ({backend}) {request}: {} statements",
        statements.len()
    );
    if backend == POSTGRES {
        let begins = statements.iter().filter(|sql| *sql == "COMMIT").count();
        line += &format!(
            " + {begins} BEGIN = {} round trips",
            statements.len() + begins
        );
    }
    println!("{line}");
    for statement in statements {
        println!("    {statement}");
    }
}

/// The SCIM ids of the seeded users, in order. A SCIM id is its row id, zero-padded to
/// twelve digits (the adapter's `scim_id`); the first is checked against the service's.
fn user_ids(runtime: &Runtime, db: &Db, service: &ScimService, users: usize) -> Vec<String> {
    let first = db_scalar(runtime, db, "SELECT min(id) FROM jit_scim_users");
    // One INSERT … SELECT numbered them: no gaps.
    let last = db_scalar(runtime, db, "SELECT max(id) FROM jit_scim_users");
    assert_eq!(last - first + 1, users as i64);
    let ids: Vec<String> = (0..users as i64)
        .map(|n| format!("{:012}", first + n))
        .collect();
    let found = runtime.block_on(send(service, "GET", "/Users", &user_name_filter(1), b""));
    assert_eq!(found.status, 200);
    assert_eq!(body(&found)["Resources"][0]["id"], json!(ids[0]));
    ids
}

fn db_scalar(runtime: &Runtime, db: &Db, sql: &str) -> i64 {
    runtime.block_on(db.scalar(sql))
}

/// The query string of a list filtered by the userName of user `n` (from 1).
fn user_name_filter(n: usize) -> String {
    format!("filter=userName%20eq%20%22user{n}%40acme.example%22")
}

/// The same user, by an email.
fn email_filter(n: usize) -> String {
    format!("filter=emails.value%20eq%20%22user{n}%40acme.example%22")
}

/// The `n`th look-up's user among `users`: a stride through all of them, so that
/// look-ups land all over the tables.
fn pick(n: u64, users: usize) -> usize {
    (n as usize).wrapping_mul(7_919) % users + 1
}

/// The body of a PATCH adding `members` (SCIM ids), prepared once: the IdP's bytes.
fn add_members(members: &[String]) -> Vec<u8> {
    let value: Vec<Value> = members.iter().map(|id| json!({ "value": id })).collect();
    serde_json::to_vec(&json!({
        "schemas": [PATCH_OP],
        "Operations": [{"op": "add", "path": "members", "value": value}],
    }))
    .unwrap()
}

/// Deletes the group `previous` (if any), which lowers its members' roles, and creates
/// [`GROUP`] again, empty: the path of a PATCH to it.
async fn fresh_group(service: &ScimService, previous: Option<&str>) -> String {
    if let Some(path) = previous {
        let deleted = send(service, "DELETE", path, "", b"").await;
        assert_eq!(deleted.status, 204, "{:?}", deleted.body);
    }
    let new =
        serde_json::to_vec(&json!({"schemas": [GROUP_SCHEMA], "displayName": GROUP})).unwrap();
    let made = send(service, "POST", "/Groups", "", &new).await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    format!("/Groups/{}", body(&made)["id"].as_str().unwrap())
}

fn assert_patched(response: &ScimResponse) {
    // RFC 7644 allows both: 200 with the group (what the service answers now) or 204.
    assert!(
        matches!(response.status, 200 | 204),
        "PATCH answered {}: {:?}",
        response.status,
        response.body
    );
}

/// The group's row id, from its path.
fn group_row(path: &str) -> i64 {
    path.trim_start_matches("/Groups/").parse().unwrap()
}

/// `scim/patch_add_10000_members`: a PATCH adding [`MEMBERS`] members, striding over
/// all the users, to an empty group whose members become contributors. Since the service
/// answers a PATCH with the group, members and all, the same PATCH is measured again with
/// `excludedAttributes=members`, which leaves the members unread: the difference is what
/// reading them back and rendering them costs.
fn patch_members(
    c: &mut Criterion,
    runtime: &Runtime,
    backend: &str,
    db: &Db,
    service: &ScimService,
    ids: &[String],
) {
    let members: Vec<String> = ids
        .iter()
        .step_by(ids.len() / MEMBERS)
        .take(MEMBERS)
        .cloned()
        .collect();
    assert_eq!(members.len(), MEMBERS);
    let patch = add_members(&members);
    count_patch(runtime, backend, service, &members, &patch);

    let variants = [
        (format!("patch_add_{MEMBERS}_members"), ""),
        (
            format!("patch_add_{MEMBERS}_members_excluding_members"),
            "excludedAttributes=members",
        ),
    ];
    for (name, query) in variants {
        let current: Mutex<Option<String>> = Mutex::new(None);
        let mut group = c.benchmark_group("scim");
        group
            .sample_size(10)
            .sampling_mode(SamplingMode::Flat)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(10));
        group.bench_function(BenchmarkId::new(name, backend), |b| {
            b.to_async(runtime).iter_custom(|iters| {
                let (current, patch) = (&current, &patch);
                async move {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let previous = current.lock().unwrap().take();
                        let path = fresh_group(service, previous.as_deref()).await;
                        let started = Instant::now();
                        let operation = ScimRequest::parse("PATCH", &path, query, patch).unwrap();
                        let response = service.handle("acme", operation, now()).await;
                        total += started.elapsed();
                        assert_patched(&response);
                        *current.lock().unwrap() = Some(path);
                    }
                    total
                }
            })
        });
        group.finish();
        // None when criterion's filter left this variant out.
        if let Some(last) = current.into_inner().unwrap() {
            check_and_delete(runtime, db, service, &last);
        }
    }
}

/// Counts the statements of a PATCH of 10 members and of one of [`MEMBERS`], each to an
/// empty group, and fails if they differ: a PATCH's round trips may not grow with its
/// members. Also counts the same PATCH with `excludedAttributes=members`, and the DELETE
/// of a full group (the timed PATCHes' untimed setup).
fn count_patch(
    runtime: &Runtime,
    backend: &str,
    service: &ScimService,
    members: &[String],
    patch: &[u8],
) {
    let patched = |path: &str, query: &str, body: &[u8]| {
        let (response, statements) =
            StatementLog::count(runtime, send(service, "PATCH", path, query, body));
        assert_patched(&response);
        let answer = response
            .body
            .as_ref()
            .map_or(0, |body| body.to_string().len());
        let answer = format!("{}, {answer} bytes of JSON", response.status);
        (statements, answer)
    };
    let path = runtime.block_on(fresh_group(service, None));
    let (ten, ten_answer) = patched(&path, "", &add_members(&members[..10]));
    let path = runtime.block_on(fresh_group(service, Some(&path)));
    let (all, all_answer) = patched(&path, "", patch);
    let path = runtime.block_on(fresh_group(service, Some(&path)));
    let (excluding, excluding_answer) = patched(&path, "excludedAttributes=members", patch);
    report(
        backend,
        &format!("PATCH /Groups/{{id}} adding 10 members (answered {ten_answer})"),
        &ten,
    );
    report(
        backend,
        &format!("PATCH /Groups/{{id}} adding {MEMBERS} members (answered {all_answer})"),
        &all,
    );
    report(
        backend,
        &format!(
            "PATCH /Groups/{{id}}?excludedAttributes=members adding {MEMBERS} members \
             (answered {excluding_answer})"
        ),
        &excluding,
    );
    assert!(
        !ten.is_empty(),
        "no statement counted: sqlx's log did not reach the bench"
    );
    assert_eq!(
        ten.len(),
        all.len(),
        "a PATCH's statements grow with its members"
    );
    let (deleted, statements) =
        StatementLog::count(runtime, send(service, "DELETE", &path, "", b""));
    assert_eq!(deleted.status, 204);
    report(
        backend,
        &format!("DELETE /Groups/{{id}} of {MEMBERS} members (untimed setup)"),
        &statements,
    );
}

/// Checks the group of the last timed PATCH: it holds every member, and they alone are
/// contributors (each deletion lowered the roles its PATCH raised). Then deletes it,
/// which leaves no contributor.
fn check_and_delete(runtime: &Runtime, db: &Db, service: &ScimService, path: &str) {
    let row = group_row(path);
    let contributors = "SELECT count(*) FROM jit_memberships WHERE role = 'contributor'";
    let held = db_scalar(
        runtime,
        db,
        &format!("SELECT count(*) FROM jit_scim_group_members WHERE group_id = {row}"),
    );
    let raised = db_scalar(
        runtime,
        db,
        &format!(
            "SELECT count(*) FROM jit_memberships m
               JOIN jit_scim_users u ON u.account_id = m.account_id
               JOIN jit_scim_group_members g ON g.user_id = u.id AND g.group_id = {row}
              WHERE m.org = 'acme' AND m.role = 'contributor'"
        ),
    );
    let all = db_scalar(runtime, db, contributors);
    assert_eq!(
        (held, raised, all),
        (MEMBERS as i64, MEMBERS as i64, MEMBERS as i64)
    );
    let deleted = runtime.block_on(send(service, "DELETE", path, "", b""));
    assert_eq!(deleted.status, 204);
    assert_eq!(db_scalar(runtime, db, contributors), 0);
}

/// `scim/list_filtered_100000`: `GET /Users` filtered by userName and by email (one
/// match each, the user striding over all of them); and, unfiltered, the first page of
/// [`PAGE`] users and one from the middle.
fn lists(c: &mut Criterion, runtime: &Runtime, backend: &str, service: &ScimService, users: usize) {
    let pages: Vec<(usize, String)> = [1, users / 2 + 1]
        .into_iter()
        .map(|start| (start, format!("startIndex={start}&count={PAGE}")))
        .collect();
    let counted = [
        user_name_filter(users / 2),
        email_filter(users / 2),
        pages[0].1.clone(),
        pages[1].1.clone(),
    ];
    for query in counted {
        let (listed, statements) =
            StatementLog::count(runtime, send(service, "GET", "/Users", &query, b""));
        assert_eq!(listed.status, 200);
        report(backend, &format!("GET /Users?{query}"), &statements);
    }

    let mut group = c.benchmark_group("scim");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let filtered = format!("list_filtered_{users}");
    for (name, filter) in [
        ("userName", user_name_filter as fn(usize) -> String),
        ("emails.value", email_filter),
    ] {
        group.bench_function(
            BenchmarkId::new(format!("{filtered}/{name}"), backend),
            |b| {
                let mut n = 0;
                b.to_async(runtime).iter(|| {
                    n += 1;
                    let query = filter(pick(n, users));
                    async move {
                        let found = send(service, "GET", "/Users", &query, b"").await;
                        assert_eq!(
                            (found.status, &body(&found)["totalResults"]),
                            (200, &json!(1))
                        );
                    }
                })
            },
        );
    }
    // Tens of milliseconds each at 100,000 users: fewer samples.
    group.sample_size(20);
    for (start, query) in &pages {
        group.bench_function(
            BenchmarkId::new(format!("list_page_{start}_of_{users}"), backend),
            |b| {
                b.to_async(runtime).iter(|| async move {
                    let page = send(service, "GET", "/Users", query, b"").await;
                    assert_eq!(page.status, 200);
                    assert_eq!(body(&page)["itemsPerPage"], json!(PAGE));
                    assert_eq!(body(&page)["totalResults"], json!(users));
                })
            },
        );
    }
    group.finish();
}

fn scim(c: &mut Criterion) {
    StatementLog::install();
    let runtime = common::runtime();
    let url = std::env::var(common::PG_URL_VAR).ok();
    let backend = if url.is_some() { POSTGRES } else { "SQLite" };
    match &url {
        Some(_) => println!("SCIM benches on PostgreSQL ({} is set)", common::PG_URL_VAR),
        None => println!(
            "SCIM benches on SQLite: {} is not set (see adapters/sqlx/BENCHMARKS.md)",
            common::PG_URL_VAR
        ),
    }
    let users = if test_mode() {
        println!("test mode: {TEST_USERS} users only");
        TEST_USERS
    } else {
        USERS
    };
    let (db, service) = runtime.block_on(async {
        match &url {
            Some(url) => {
                let (db, store) = Db::postgres(url).await;
                (db, scim_service(store))
            }
            None => {
                let (db, store) = Db::sqlite().await;
                (db, scim_service(store))
            }
        }
    });
    let started = Instant::now();
    runtime.block_on(db.seed_scim_users(users));
    println!("{users} SCIM users seeded in {:.2?}", started.elapsed());
    let ids = user_ids(&runtime, &db, &service, users);

    patch_members(c, &runtime, backend, &db, &service, &ids);
    lists(c, &runtime, backend, &service, users);
    runtime.block_on(db.close());
}

criterion_group!(benches, scim);
criterion_main!(benches);
