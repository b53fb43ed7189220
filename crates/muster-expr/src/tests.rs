#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn eval_item(src: &str, item: &Json) -> Result<Json, EvalError> {
    compile(src).unwrap().eval(&Scope::new().with("item", item))
}

fn ok(src: &str, item: Json) -> Json {
    match eval_item(src, &item) {
        Ok(v) => v,
        Err(e) => panic!("{src}: {e:?}"),
    }
}

fn constant(src: &str) -> Json {
    compile(src).unwrap().eval(&Scope::new()).unwrap()
}

fn failed(src: &str, item: Json) -> String {
    match eval_item(src, &item) {
        Err(EvalError::Failed { message }) => message,
        other => panic!("{src}: expected a failure, got {other:?}"),
    }
}

// ---- compile ----

#[test]
fn compile_error_points_near_the_end() {
    let src = "item.name +";
    let err = compile(src).unwrap_err();
    assert_eq!(err.offset, src.len() - 1, "{err:?}");
    assert!(err.len >= 1);
    assert_eq!(err.message, "unexpected end of expression");
}

#[test]
fn compile_error_points_at_the_offending_token() {
    let err = compile("a +* b").unwrap_err();
    assert_eq!(err.offset, 3, "{err:?}");
    assert!(err.message.contains("'*'"), "{}", err.message);
    assert!(!err.message.contains("expecting {"), "{}", err.message);

    let err = compile("a\n+ )").unwrap_err();
    assert_eq!(err.offset, 4, "{err:?}");

    // multibyte chars before the error: offsets are bytes, on char boundaries
    let src = "'é' + * 1";
    let err = compile(src).unwrap_err();
    assert_eq!(&src[err.offset..err.offset + err.len], "*", "{err:?}");
}

#[test]
fn compile_error_on_empty_source() {
    let err = compile("").unwrap_err();
    assert_eq!((err.offset, err.len), (0, 1));
    assert!(compile("   ").is_err());
}

#[test]
fn expr_is_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<Expr>();
    let e = compile("item.a").unwrap();
    let e2 = e.clone();
    assert_eq!(e2.source(), "item.a");
    let item = json!({"a": 1});
    let handle = std::thread::spawn(move || e2.eval(&Scope::new().with_owned("item", item)));
    assert_eq!(handle.join().unwrap().unwrap(), json!(1));
}

// ---- analysis ----

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[test]
fn variables_are_top_level_free_identifiers() {
    let e = compile("item.a + vars.prefix + resource.id").unwrap();
    assert_eq!(e.variables(), &set(&["item", "resource", "vars"]));
    assert!(!e.is_constant());

    let e = compile("item.tags.map(t, t.name).exists(x, x == principal.name)").unwrap();
    assert_eq!(e.variables(), &set(&["item", "principal"]));

    let e = compile("type(item) == map && optional.of(1).hasValue()").unwrap();
    assert_eq!(e.variables(), &set(&["item"]));
    assert!(e.functions().contains("optional.of"));
    assert!(e.functions().contains("hasValue"));
    assert!(e.functions().contains("type"));

    // a comprehension variable shadows a top-level one
    let e = compile("[1, 2].map(item, item * 2)").unwrap();
    assert!(e.variables().is_empty());
    assert!(e.is_constant());
}

#[test]
fn constants() {
    for src in ["true", "'human'", "1 + 2", "[1, 2].map(x, x)", "lower('A')"] {
        assert!(compile(src).unwrap().is_constant(), "{src}");
    }
    assert!(!compile("item").unwrap().is_constant());
}

#[test]
fn paths_of_a_variable() {
    let e = compile("lower(item.profile.email)").unwrap();
    assert_eq!(e.paths_of("item"), ["profile.email"]);

    let e = compile("has(item.a.b) ? item['c'].d : item.?e.orValue(vars.x) + item.profile.email.lower()").unwrap();
    assert_eq!(e.paths_of("item"), ["a.b", "c.d", "e", "profile.email"], "{:?}", e.paths_of("item"));
    assert_eq!(e.paths_of("vars"), ["x"]);
    assert!(e.paths_of("resource").is_empty());

    // the whole variable: no path
    assert!(compile("size(item)").unwrap().paths_of("item").is_empty());
}

#[test]
fn functions_called() {
    let e = compile("lower(item.a) + item.b.upper() + string(size(item.c)) + item.d.trim()").unwrap();
    assert_eq!(e.functions(), &set(&["lower", "size", "string", "trim", "upper"]));
    // operators and expanded macros aren't functions
    let e = compile("has(item.a) && [1].all(x, x > 0) && !(1 in [2]) && -1 < 2").unwrap();
    assert!(e.functions().is_empty(), "{:?}", e.functions());
    let e = compile("lowr(item.a)").unwrap();
    assert_eq!(e.functions(), &set(&["lowr"]));
    assert!(!known_function("lowr"));
}

#[test]
fn known_function_names() {
    for name in [
        "lower",
        "upper",
        "trim",
        "split",
        "join",
        "default",
        "coalesce",
        "parse_time",
        "to_string",
        "size",
        "has",
        "map",
        "filter",
        "exists",
        "all",
        "lowerAscii",
        "startsWith",
        "matches",
        "timestamp",
        "math.greatest",
        "optional.of",
        "orValue",
    ] {
        assert!(known_function(name), "{name}");
    }
    assert!(!known_function("nope"));
    let all = known_functions();
    assert!(all.contains(&"lower") && all.contains(&"size") && all.contains(&"math.abs"));
    assert!(all.windows(2).all(|w| w[0] < w[1]), "sorted and deduplicated");
    for (name, doc) in FUNCTIONS {
        assert!(known_function(name), "{name}");
        assert!(!doc.is_empty());
    }
}

// ---- conversion ----

#[test]
fn json_integers_are_ints() {
    let item = json!({"count": 3, "ratio": 0.5, "big": 18446744073709551615u64});
    assert_eq!(ok("item.count > 1", item.clone()), json!(true));
    assert_eq!(ok("item.count + 1", item.clone()), json!(4));
    assert_eq!(ok("type(item.count) == int", item.clone()), json!(true));
    assert_eq!(ok("item.ratio * 2.0", item.clone()), json!(1.0));
    assert_eq!(ok("type(item.ratio) == double", item.clone()), json!(true));
    assert_eq!(ok("item.big", item), json!(18446744073709551615u64));
}

#[test]
fn values_round_trip() {
    let item = json!({
        "s": "x", "n": null, "b": true, "l": [1, "two", null, {"k": [true]}],
        "m": {"z": 1, "a": {"b": "c"}}
    });
    assert_eq!(ok("item", item.clone()), item);
    assert_eq!(ok("item.l", item.clone()), item["l"]);
    assert_eq!(ok("item.m", item.clone()), item["m"]);
}

#[test]
fn cel_values_to_json() {
    assert_eq!(constant("timestamp('2024-01-02T03:04:05Z')"), json!("2024-01-02T03:04:05Z"));
    assert_eq!(constant("timestamp('2024-01-02T05:04:05+02:00')"), json!("2024-01-02T03:04:05Z"));
    assert_eq!(constant("duration('90s')"), json!(90));
    assert_eq!(constant("duration('1.5s')"), json!(1.5));
    assert_eq!(constant("b'hi'"), json!("aGk="));
    assert_eq!(constant("1u"), json!(1));
    assert_eq!(constant("optional.none()"), json!(null));
    assert_eq!(constant("optional.of('x')"), json!("x"));
    assert_eq!(constant("{1: 'a', 'k': [2u]}"), json!({"1": "a", "k": [2]}));
    assert_eq!(constant("type(1)"), json!("int"));
}

// ---- null semantics ----

#[test]
fn missing_key_is_distinct_from_null() {
    let item = json!({"a": 1, "n": null, "m": {"x": 1}});
    assert_eq!(eval_item("item.nope", &item), Err(EvalError::Missing { path: "item.nope".into() }));
    assert_eq!(eval_item("item.m.y", &item), Err(EvalError::Missing { path: "item.m.y".into() }));
    assert_eq!(eval_item("item['m']['y']", &item), Err(EvalError::Missing { path: "item.m.y".into() }));
    assert_eq!(eval_item("lower(item.m.y)", &item), Err(EvalError::Missing { path: "item.m.y".into() }));
    assert_eq!(ok("item.n", item.clone()), json!(null));
    assert_eq!(ok("item.n == null", item.clone()), json!(true));
    assert_eq!(ok("has(item.n)", item.clone()), json!(true));
    assert_eq!(ok("has(item.nope)", item.clone()), json!(false));
    assert_eq!(ok("has(item.m.y)", item.clone()), json!(false));
    assert_eq!(ok("item.?nope.orValue('d')", item.clone()), json!("d"));
    assert_eq!(ok("item.?m.?y.orValue('d')", item.clone()), json!("d"));
    assert_eq!(ok("item.?m.?x.orValue('d')", item.clone()), json!(1));
    assert_eq!(ok("item.?n.?x.orValue('d')", item.clone()), json!("d"));
    assert_eq!(ok("item.?nope", item.clone()), json!(null));
}

#[test]
fn selecting_off_null_fails_with_a_clear_message() {
    let msg = failed("item.m.n.x", json!({"m": {"n": null}}));
    assert!(msg.contains("`item.m.n`") && msg.contains("`x`"), "{msg}");
}

#[test]
fn missing_key_inside_a_comprehension() {
    let item = json!({"groups": [{"name": "a"}, {"id": 2}]});
    let err = eval_item("item.groups.map(g, g.name)", &item).unwrap_err();
    assert_eq!(err, EvalError::Missing { path: "name".into() });
}

#[test]
fn unbound_variable_fails() {
    let msg = match compile("vars.x").unwrap().eval(&Scope::new()) {
        Err(EvalError::Failed { message }) => message,
        other => panic!("{other:?}"),
    };
    assert!(msg.contains("vars"), "{msg}");
}

#[test]
fn unknown_function_fails() {
    let msg = failed("lowr(item.a)", json!({"a": "x"}));
    assert!(msg.contains("lowr"), "{msg}");
}

// ---- library ----

#[test]
fn lower_upper_trim() {
    let item = json!({"e": "  Ada@Example.COM ", "n": null, "i": 1});
    assert_eq!(ok("lower(item.e)", item.clone()), json!("  ada@example.com "));
    assert_eq!(ok("item.e.lower()", item.clone()), json!("  ada@example.com "));
    assert_eq!(ok("upper(item.e)", item.clone()), json!("  ADA@EXAMPLE.COM "));
    assert_eq!(ok("item.e.upper()", item.clone()), json!("  ADA@EXAMPLE.COM "));
    assert_eq!(ok("trim(item.e)", item.clone()), json!("Ada@Example.COM"));
    assert_eq!(ok("item.e.trim()", item.clone()), json!("Ada@Example.COM"));
    assert_eq!(ok("lower(trim(item.e))", item.clone()), json!("ada@example.com"));
    assert_eq!(ok("lower('ÉCOLE')", json!({})), json!("école"));
    assert_eq!(ok("lower(item.n)", item.clone()), json!(null));
    assert_eq!(ok("item.n.upper()", item.clone()), json!(null));
    assert_eq!(ok("trim(item.n)", item.clone()), json!(null));
    let msg = failed("lower(item.i)", item);
    assert!(msg.contains("lower") && msg.contains("int"), "{msg}");
}

#[test]
fn cel_string_extensions_are_available() {
    assert_eq!(constant("'TacoCat'.lowerAscii()"), json!("tacocat"));
    assert_eq!(constant("'TacoCat'.upperAscii()"), json!("TACOCAT"));
    assert_eq!(constant("'a-b'.replace('-', '_')"), json!("a_b"));
    assert_eq!(constant("'hello'.substring(1, 3)"), json!("el"));
    assert_eq!(constant("'hello'.indexOf('l')"), json!(2));
    assert_eq!(constant("[3, 1, 2].sort()"), json!([1, 2, 3]));
    assert_eq!(constant("math.greatest(1, 5, 3)"), json!(5));
    assert_eq!(constant("'abc'.startsWith('a') && 'abc'.matches('^a.c$')"), json!(true));
}

#[test]
fn split_and_join() {
    let item = json!({"s": "a,b,,c", "l": ["x", "y"], "mixed": ["a", 1, true, null, 2.5], "n": null});
    assert_eq!(ok("split(item.s, ',')", item.clone()), json!(["a", "b", "", "c"]));
    assert_eq!(ok("item.s.split(',')", item.clone()), json!(["a", "b", "", "c"]));
    assert_eq!(ok("split('', ',')", item.clone()), json!([]));
    assert_eq!(ok("split('ab', '')", item.clone()), json!(["a", "b"]));
    assert_eq!(ok("split(item.n, ',')", item.clone()), json!(null));
    assert_eq!(ok("join(item.l, ', ')", item.clone()), json!("x, y"));
    assert_eq!(ok("item.l.join('-')", item.clone()), json!("x-y"));
    assert_eq!(ok("join(item.l)", item.clone()), json!("xy"));
    assert_eq!(ok("join(item.mixed, '|')", item.clone()), json!("a|1|true|2.5"));
    assert_eq!(ok("join(split(item.s, ','), ';')", item.clone()), json!("a;b;;c"));
    assert_eq!(ok("join(item.n, ',')", item.clone()), json!(null));
    assert!(failed("join([[1]], ',')", item.clone()).contains("join"));
    assert!(failed("split(1, ',')", item).contains("split"));
}

#[test]
fn default_function() {
    let item = json!({"n": null, "s": "x", "z": 0});
    assert_eq!(ok("default(item.n, 'fb')", item.clone()), json!("fb"));
    assert_eq!(ok("default(item.s, 'fb')", item.clone()), json!("x"));
    assert_eq!(ok("default(item.z, 5)", item.clone()), json!(0));
    assert_eq!(ok("item.n.default('fb')", item.clone()), json!("fb"));
    assert_eq!(ok("default(item.?nope, 'fb')", item.clone()), json!("fb"));
    assert_eq!(ok("default(item.?s, 'fb')", item.clone()), json!("x"));
    assert_eq!(ok("default(item.?n, 'fb')", item.clone()), json!("fb"));
    // absent keys are still errors: default only handles null
    assert_eq!(eval_item("default(item.nope, 'fb')", &item), Err(EvalError::Missing { path: "item.nope".into() }));
}

#[test]
fn coalesce_function() {
    let item = json!({"a": null, "b": "B", "c": "C"});
    assert_eq!(ok("coalesce(item.a, item.b, item.c)", item.clone()), json!("B"));
    assert_eq!(ok("coalesce(item.a, null)", item.clone()), json!(null));
    assert_eq!(ok("coalesce(item.a)", item.clone()), json!(null));
    assert_eq!(ok("coalesce([item.a, item.c])", item.clone()), json!("C"));
    assert_eq!(ok("coalesce([])", item.clone()), json!(null));
    assert_eq!(ok("coalesce(item.?x, item.?b)", item.clone()), json!("B"));
    assert_eq!(ok("coalesce(null, null, null, null, null, null, null, null, null, null, null, 12)", item), json!(12));
}

#[test]
fn parse_time_function() {
    let item = json!({
        "rfc": "2024-01-02T04:04:05+01:00", "secs": 1704164645, "millis": 1704164645000i64,
        "fsecs": 1704164645.5, "ssecs": "1704164645", "smillis": "1704164645000",
        "n": null, "empty": "", "naive": "2024-01-02 03:04:05", "date": "2024-01-02",
        "custom": "02/01/2024 03:04", "bad": "yesterday"
    });
    let want = json!("2024-01-02T03:04:05Z");
    for field in ["rfc", "secs", "millis", "ssecs", "smillis", "naive"] {
        assert_eq!(ok(&format!("parse_time(item.{field})"), item.clone()), want, "{field}");
    }
    assert_eq!(ok("item.secs.parse_time()", item.clone()), want);
    assert_eq!(ok("parse_time(item.fsecs)", item.clone()), json!("2024-01-02T03:04:05.500Z"));
    assert_eq!(ok("parse_time(item.date)", item.clone()), json!("2024-01-02T00:00:00Z"));
    assert_eq!(ok("parse_time(item.n)", item.clone()), json!(null));
    assert_eq!(ok("parse_time(item.empty)", item.clone()), json!(null));
    assert_eq!(ok("parse_time(timestamp('2024-01-02T03:04:05Z'))", item.clone()), want);
    assert_eq!(ok("parse_time(item.custom, '%d/%m/%Y %H:%M')", item.clone()), json!("2024-01-02T03:04:00Z"));
    assert_eq!(ok("item.custom.parse_time('%d/%m/%Y %H:%M')", item.clone()), json!("2024-01-02T03:04:00Z"));
    assert_eq!(
        ok("parse_time('2024-01-02 05:04 +0200', '%Y-%m-%d %H:%M %z')", item.clone()),
        json!("2024-01-02T03:04:00Z")
    );
    assert_eq!(ok("parse_time('02.01.2024', '%d.%m.%Y')", item.clone()), json!("2024-01-02T00:00:00Z"));
    assert_eq!(ok("parse_time(item.n, '%Y')", item.clone()), json!(null));
    assert!(failed("parse_time(item.bad)", item.clone()).contains("parse_time"));
    assert!(failed("parse_time(item.bad, '%Y-%m-%d')", item.clone()).contains("parse_time"));
    assert!(failed("parse_time([1])", item).contains("parse_time"));
}

#[test]
fn to_string_function() {
    let item = json!({"i": 42, "f": 2.5, "b": true, "s": "x", "n": null, "l": [1, "a"], "m": {"k": 1}});
    assert_eq!(ok("to_string(item.i)", item.clone()), json!("42"));
    assert_eq!(ok("item.i.to_string()", item.clone()), json!("42"));
    assert_eq!(ok("to_string(item.f)", item.clone()), json!("2.5"));
    assert_eq!(ok("to_string(item.b)", item.clone()), json!("true"));
    assert_eq!(ok("to_string(item.s)", item.clone()), json!("x"));
    assert_eq!(ok("to_string(item.n)", item.clone()), json!(null));
    assert_eq!(ok("to_string(item.l)", item.clone()), json!(r#"[1,"a"]"#));
    assert_eq!(ok("to_string(item.m)", item.clone()), json!(r#"{"k":1}"#));
    assert_eq!(ok("to_string(timestamp('2024-01-02T03:04:05Z'))", item.clone()), json!("2024-01-02T03:04:05Z"));
    assert_eq!(ok("to_string(b'hi')", item.clone()), json!("hi"));
    assert_eq!(ok("to_string(duration('90s'))", item), json!("90s"));
}

// ---- scope ----

#[test]
fn scope_bindings() {
    let item = json!({"a": 1});
    let other = json!({"a": 2});
    let mut scope = Scope::new().with("item", &item).with_owned("vars", json!({"p": "x"}));
    assert_eq!(scope.get("item"), Some(&item));
    let e = compile("item.a").unwrap();
    assert_eq!(e.eval(&scope).unwrap(), json!(1));
    scope.set("item", &other);
    assert_eq!(e.eval(&scope).unwrap(), json!(2));
    assert_eq!(compile("vars.p + 'y'").unwrap().eval(&scope).unwrap(), json!("xy"));
    scope.remove("vars");
    assert!(scope.get("vars").is_none());
    let name = String::from("resource");
    scope.set_owned(name, json!(3));
    assert_eq!(compile("resource + item.a").unwrap().eval(&scope).unwrap(), json!(5));
}

#[test]
fn projection_keeps_semantics() {
    // only item.a.b is converted, but whole-variable uses still see everything
    let item = json!({"a": {"b": 1, "c": 2}, "d": [1, 2], "e": "x"});
    assert_eq!(ok("item.a.b + size(item.a)", item.clone()), json!(3));
    assert_eq!(ok("item.a.b + size(item)", item.clone()), json!(4));
    assert_eq!(ok("item.d.map(x, x * 2)", item.clone()), json!([2, 4]));
    assert_eq!(ok("'e' in item", item.clone()), json!(true));
    assert_eq!(ok("item.a == {'b': 1, 'c': 2}", item.clone()), json!(true));
    assert_eq!(ok("has(item.a.c) && !has(item.a.z)", item.clone()), json!(true));
    let keyed = json!({"k": "e", "e": "found"});
    assert_eq!(ok("item[item.k]", keyed), json!("found"));
}

/// A loop of evaluations, to eyeball throughput with `--nocapture` removed:
/// it prints and asserts nothing about timing.
#[test]
fn many_evaluations() {
    let expr = compile("lower(item.profile.email) + ':' + to_string(item.count > 1)").unwrap();
    let mut record = json!({"profile": {"email": "A@B.C"}, "count": 2});
    for i in 0..200 {
        record[format!("filler{i}")] = json!({"x": i, "y": [i, i]});
    }
    let scope = Scope::new().with("item", &record);
    for _ in 0..2_000 {
        assert_eq!(expr.eval(&scope).unwrap(), json!("a@b.c:true"));
    }
}

#[test]
fn field_paths_take_the_fast_path_with_cel_semantics() {
    let item = serde_json::json!({"id": 7, "name": "A", "profile": {"email": null, "n": 1.5}, "tags": ["x"], "s": "t"});
    let scope = crate::Scope::new().with("item", &item);
    for src in
        ["item.id", "item.name", "item.profile.email", "item.profile.n", "item.tags", "item.nope", "item.profile.nope"]
    {
        let e = crate::compile(src).unwrap();
        assert!(e.inner.path.is_some(), "{src} should be a plain path");
        let fast = e.eval(&scope);
        let cel = e.eval_cel(&scope);
        match (&fast, &cel) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{src}"),
            (Err(crate::EvalError::Missing { path: a }), Err(crate::EvalError::Missing { path: b })) => {
                assert_eq!(a, b, "{src}")
            }
            other => panic!("{src}: fast and CEL disagree: {other:?}"),
        }
    }
    for src in ["item.profile.email.x", "item.s.x"] {
        let e = crate::compile(src).unwrap();
        assert!(matches!(e.eval(&scope), Err(crate::EvalError::Failed { .. })), "{src}");
        assert!(matches!(e.eval_cel(&scope), Err(crate::EvalError::Failed { .. })), "{src}");
    }
    for src in ["lower(item.name)", "item.id + 1", "item['id']", "true", "item"] {
        assert!(crate::compile(src).unwrap().inner.path.is_none(), "{src}");
    }
    let e = crate::compile("vars.x").unwrap();
    assert!(matches!(e.eval(&scope), Err(crate::EvalError::Failed { .. })));
}
