//! The filter grammar of RFC 7644 §3.4.2.2: precedence, case, escapes, value paths,
//! schema URIs, literals, and hostile input.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)] // tests fail by panicking

use std::time::{Duration, Instant};

use jit_provisioning_scim::{
    AttrPath, CompValue, CompareOp, Filter, Limits, ScimType, SimpleFilter, MAX_FILTER_BYTES,
    MAX_FILTER_DEPTH,
};

fn parse(text: &str) -> Filter {
    Filter::parse(text).unwrap_or_else(|e| panic!("`{text}`: {e}"))
}

fn refused(text: &str) -> String {
    let error = Filter::parse(text).expect_err(text);
    assert_eq!(
        error.scim_type(),
        Some(ScimType::InvalidFilter),
        "`{text}`: {error}"
    );
    assert_eq!(error.status(), 400);
    error.detail().to_owned()
}

fn eq(name: &str, value: &str) -> Filter {
    Filter::eq(AttrPath::new(name), value)
}

fn pr(name: &str) -> Filter {
    Filter::Present(AttrPath::new(name))
}

#[test]
fn and_binds_tighter_than_or() {
    assert_eq!(
        parse(r#"a eq "1" or b eq "2" and c eq "3""#),
        Filter::Or(vec![
            eq("a", "1"),
            Filter::And(vec![eq("b", "2"), eq("c", "3")])
        ])
    );
    assert_eq!(
        parse(r#"a eq "1" and b eq "2" or c eq "3""#),
        Filter::Or(vec![
            Filter::And(vec![eq("a", "1"), eq("b", "2")]),
            eq("c", "3")
        ])
    );
}

#[test]
fn parentheses_override_precedence() {
    let filter = parse(r#"(a eq "1" or b eq "2") and c eq "3""#);
    assert_eq!(
        filter,
        Filter::And(vec![
            Filter::Or(vec![eq("a", "1"), eq("b", "2")]),
            eq("c", "3")
        ])
    );
    assert_eq!(filter.to_string(), r#"(a eq "1" or b eq "2") and c eq "3""#);
}

#[test]
fn not_applies_to_its_parentheses_only() {
    assert_eq!(
        parse("not (a pr) and b pr"),
        Filter::And(vec![Filter::Not(Box::new(pr("a"))), pr("b")])
    );
    assert_eq!(
        parse("not(a pr or b pr)"),
        Filter::Not(Box::new(Filter::Or(vec![pr("a"), pr("b")])))
    );
}

#[test]
fn chains_are_flat() {
    assert_eq!(
        parse("a pr and (b pr and c pr)"),
        Filter::And(vec![pr("a"), pr("b"), pr("c")])
    );
    assert_eq!(parse("((a pr))"), pr("a"));
}

#[test]
fn keywords_operators_and_names_ignore_case() {
    let filter = parse(r#"USERNAME Eq "b" AND Active EQ True Or NOT (title PR)"#);
    assert_eq!(
        filter.to_string(),
        r#"userName eq "b" and active eq true or not (title pr)"#
    );
}

#[test]
fn every_operator() {
    for op in CompareOp::ALL {
        let filter = parse(&format!(r#"title {} "x""#, op.as_str().to_uppercase()));
        assert_eq!(
            filter,
            Filter::Compare {
                path: AttrPath::new("title"),
                op,
                value: CompValue::String("x".into())
            }
        );
    }
}

#[test]
fn string_escapes_are_json_escapes() {
    let filter = parse(r#"displayName eq "O\"Malley \\ caf\u00e9 \/ \t""#);
    assert_eq!(filter, eq("displayName", "O\"Malley \\ café / \t"));
    assert_eq!(parse(&filter.to_string()), filter);
    // A quote-laden value in a string stays in it.
    assert_eq!(
        parse(r#"title eq "a and b or (c)""#),
        eq("title", "a and b or (c)")
    );
}

#[test]
fn literals() {
    let cases = [
        ("active eq true", CompValue::Bool(true)),
        ("active eq FALSE", CompValue::Bool(false)),
        ("title eq null", CompValue::Null),
        ("x eq 42", CompValue::Number(42.into())),
        (
            "x gt -1.5e3",
            CompValue::Number(serde_json::Number::from_f64(-1500.0).unwrap()),
        ),
    ];
    for (text, value) in cases {
        let Filter::Compare { value: got, .. } = parse(text) else {
            panic!("{text}")
        };
        assert_eq!(got, value, "{text}");
    }
}

#[test]
fn attribute_paths_with_schemas_and_sub_attributes() {
    let filter =
        parse(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName co "O'Malley""#);
    let Filter::Compare { path, .. } = &filter else {
        panic!()
    };
    assert_eq!(
        path.schema.as_deref(),
        Some("urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_eq!(
        (path.name.as_str(), path.sub_attribute.as_deref()),
        ("name", Some("familyName"))
    );
    assert_eq!(parse(&filter.to_string()), filter);

    let filter = parse(
        r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "m1""#,
    );
    let Filter::Compare { path, .. } = &filter else {
        panic!()
    };
    assert_eq!(
        path.schema.as_deref(),
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
    );
    assert_eq!(
        (path.name.as_str(), path.sub_attribute.as_deref()),
        ("manager", Some("value"))
    );

    let filter = parse(r#"urn:example:params:custom:2.0:User:tag eq "x""#);
    let Filter::Compare { path, .. } = &filter else {
        panic!()
    };
    assert_eq!(
        path.schema.as_deref(),
        Some("urn:example:params:custom:2.0:User")
    );
    assert_eq!(path.name, "tag");
    assert_eq!(parse("$ref pr"), pr("$ref"));
}

#[test]
fn value_paths() {
    let filter =
        parse(r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp"]"#);
    assert_eq!(
        filter,
        Filter::Or(vec![
            Filter::ValuePath {
                path: AttrPath::new("emails"),
                filter: Box::new(Filter::And(vec![
                    eq("type", "work"),
                    Filter::Compare {
                        path: AttrPath::new("value"),
                        op: CompareOp::Co,
                        value: CompValue::String("@example.com".into()),
                    },
                ])),
            },
            Filter::ValuePath {
                path: AttrPath::new("ims"),
                filter: Box::new(eq("type", "xmpp"))
            },
        ])
    );
    assert_eq!(parse(&filter.to_string()), filter);
    assert_eq!(
        parse(r#"emails[not (type eq "work")]"#).to_string(),
        r#"emails[not (type eq "work")]"#
    );
}

#[test]
fn simple_forms() {
    let cases = [
        (
            r#"userName eq "b@x""#,
            Some(SimpleFilter::UserName("b@x".into())),
        ),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "b@x""#,
            Some(SimpleFilter::UserName("b@x".into())),
        ),
        (
            r#"externalId eq "e1""#,
            Some(SimpleFilter::ExternalId("e1".into())),
        ),
        (
            r#"displayName eq "Sales""#,
            Some(SimpleFilter::DisplayName("Sales".into())),
        ),
        (r#"id eq "u1""#, Some(SimpleFilter::Id("u1".into()))),
        (
            r#"emails.value eq "b@x""#,
            Some(SimpleFilter::Email {
                value: "b@x".into(),
                email_type: None,
            }),
        ),
        (
            r#"emails[value eq "b@x"]"#,
            Some(SimpleFilter::Email {
                value: "b@x".into(),
                email_type: None,
            }),
        ),
        (
            r#"emails[value eq "b@x" and type eq "work"]"#,
            Some(SimpleFilter::Email {
                value: "b@x".into(),
                email_type: Some("work".into()),
            }),
        ),
        (
            r#"emails[type eq "work"].value eq "b@x""#,
            Some(SimpleFilter::Email {
                value: "b@x".into(),
                email_type: Some("work".into()),
            }),
        ),
        (
            r#"id eq "g1" and members eq "u1""#,
            Some(SimpleFilter::IdWithMember {
                id: "g1".into(),
                member: "u1".into(),
            }),
        ),
        (
            r#"members[value eq "u1"] and id eq "g1""#,
            Some(SimpleFilter::IdWithMember {
                id: "g1".into(),
                member: "u1".into(),
            }),
        ),
        (r#"userName eq "a" or userName eq "b""#, None),
        (r#"userName ne "a""#, None),
        ("userName eq null", None),
        (r#"urn:example:x:2.0:User:userName eq "b""#, None),
    ];
    for (text, expected) in cases {
        assert_eq!(parse(text).simple(), expected, "{text}");
    }
}

#[test]
fn malformed_filters_say_where() {
    let cases = [
        ("", "empty"),
        ("   ", "empty"),
        ("userName", "needs an operator"),
        ("userName eq", "value was expected"),
        ("userName equals \"x\"", "not an operator"),
        ("userName eq \"x\" and", "ends where an expression"),
        ("userName eq \"x\" userName", "unexpected `userName`"),
        ("(userName pr", "never closed"),
        ("userName pr)", "unexpected `)`"),
        ("emails[type eq \"work\"", "never closed"),
        ("emails[type[value pr]]", "cannot nest"),
        ("name.givenName[x pr]", "not a sub-attribute"),
        (
            "not userName pr",
            "must be followed by a filter in parentheses",
        ),
        ("active gt true", "cannot compare with a boolean"),
        ("title lt null", "cannot compare with null"),
        ("title co 1", "anything but a string"),
        ("1abc eq \"x\"", "not an attribute name"),
        ("a.b.c eq \"x\"", "more than one sub-attribute"),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User: pr",
            "no attribute",
        ),
        ("\"x\" eq userName", "found `\"x\"`"),
        ("userName eq \"\\x\"", "not a valid JSON string"),
    ];
    for (text, detail) in cases {
        let got = refused(text);
        assert!(
            got.contains(detail),
            "`{text}`: `{got}` should say `{detail}`"
        );
        assert!(got.starts_with("filter: "), "{got}");
    }
}

#[test]
fn unterminated_strings() {
    for text in [
        r#"userName eq "abc"#,
        r#"userName eq "abc\"#,
        r#"userName eq "abc\""#,
        r#"userName eq ""#,
    ] {
        assert!(refused(text).contains("no closing quote"), "{text}");
    }
}

#[test]
fn nesting_is_bounded() {
    let nested = |depth: usize| format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth));
    parse(&nested(MAX_FILTER_DEPTH));
    assert!(refused(&nested(MAX_FILTER_DEPTH + 1)).contains("nests more than 32"));
    let nots = |depth: usize| format!("{}a pr{}", "not (".repeat(depth), ")".repeat(depth));
    parse(&nots(MAX_FILTER_DEPTH));
    assert!(refused(&nots(MAX_FILTER_DEPTH + 1)).contains("nests more than"));
    // Unclosed, as an attacker would send them: refused without recursing past the limit.
    assert!(refused(&"(".repeat(2000)).contains("nests more than"));
    assert!(refused(&"not (".repeat(800)).contains("nests more than"));
    let shallow = Limits::default().with_max_filter_depth(2);
    assert!(Filter::parse_with_limits(&nested(3), &shallow).is_err());
}

#[test]
fn long_filters_are_refused_before_parsing() {
    let megabyte = format!("userName eq \"{}\"", "x".repeat(1024 * 1024));
    let started = Instant::now();
    assert!(refused(&megabyte).contains("the limit is 4096"));
    let deep = "(".repeat(1024 * 1024);
    assert!(refused(&deep).contains("the limit is 4096"));
    assert!(started.elapsed() < Duration::from_secs(1));

    let at_limit = format!("title eq \"{}\"", "x".repeat(MAX_FILTER_BYTES - 11));
    assert_eq!(at_limit.len(), MAX_FILTER_BYTES);
    parse(&at_limit);
    refused(&format!("{at_limit} "));
}

#[test]
fn long_flat_chains_stay_flat() {
    // As many terms as 4 KiB holds: one `Or`, so nothing recurses per term.
    let chain = vec!["a pr"; 800].join(" or ");
    let chain = chain
        .get(..MAX_FILTER_BYTES - 10)
        .unwrap()
        .trim_end_matches(|c| c != 'r');
    let Filter::Or(items) = parse(chain) else {
        panic!()
    };
    assert!(items.len() > 400);
}

#[test]
fn bare_words_are_strings() {
    // Entra ID's documentation and Microsoft's reference code: `externalId eq jyoung`.
    assert_eq!(parse("externalId eq jyoung"), eq("externalId", "jyoung"));
    assert_eq!(
        parse("externalId eq jyoung").to_string(),
        r#"externalId eq "jyoung""#
    );
    assert_eq!(
        parse("meta.created gt 2015-10-10T14:38:21.8617979-07:00"),
        Filter::Compare {
            path: AttrPath::new("meta").with_sub_attribute("created"),
            op: CompareOp::Gt,
            value: CompValue::String("2015-10-10T14:38:21.8617979-07:00".into()),
        }
    );
}
