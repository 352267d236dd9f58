//! The emulator's filter language against a plain evaluator: random conditions are written
//! out as filter text (with only the parentheses precedence needs, or more, and keywords in any
//! case), parsed by `Filter`, and must match exactly the records the plain evaluator of the
//! same conditions matches. Any text at all parses or is refused, never a panic.

use std::cmp::Ordering;

use janrain_auth::emulator::Filter;
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
enum Operand {
    Attribute(&'static str),
    Text(String),
    Integer(i64),
    Boolean(bool),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone)]
enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>, bool),
    Compare(Operand, Op, Operand),
    IsNull(&'static str, bool),
    /// Needless parentheses around the condition.
    Grouped(Box<Condition>),
}

const ATTRIBUTES: [&str; 4] = ["a", "b", "flag", "n.x"];

fn operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        prop::sample::select(&ATTRIBUTES[..]).prop_map(Operand::Attribute),
        prop::sample::select(vec!["5", "abc", "true", "", "it's", "a\\b", "Zoë"])
            .prop_map(|s| Operand::Text(s.to_owned())),
        (-3i64..10).prop_map(Operand::Integer),
        any::<bool>().prop_map(Operand::Boolean),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let op = prop::sample::select(vec![Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]);
    let leaf = prop_oneof![
        (operand(), op, operand()).prop_map(|(a, op, b)| Condition::Compare(a, op, b)),
        (prop::sample::select(&ATTRIBUTES[..]), any::<bool>())
            .prop_map(|(a, not)| Condition::IsNull(a, not)),
    ];
    leaf.prop_recursive(5, 40, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::Or(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone())
                .prop_map(|(a, b)| Condition::And(Box::new(a), Box::new(b))),
            (inner.clone(), any::<bool>()).prop_map(|(a, bang)| Condition::Not(Box::new(a), bang)),
            inner.prop_map(|a| Condition::Grouped(Box::new(a))),
        ]
    })
}

fn value() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        (-3i64..10).prop_map(|n| Some(json!(n))),
        prop::sample::select(vec!["5", "abc", "true", "false", "", "it's", "Zoë", "-2"])
            .prop_map(|s| Some(json!(s))),
        any::<bool>().prop_map(|b| Some(json!(b))),
    ]
}

fn record() -> impl Strategy<Value = Value> {
    (value(), value(), value(), value(), any::<bool>()).prop_map(|(a, b, flag, x, nested)| {
        let mut record = Map::new();
        for (name, v) in [("a", a), ("b", b), ("flag", flag)] {
            if let Some(v) = v {
                record.insert(name.to_owned(), v);
            }
        }
        match (x, nested) {
            (Some(x), true) => {
                record.insert("n".to_owned(), json!({"x": x}));
            }
            (_, false) => {
                record.insert("n".to_owned(), json!("not an object"));
            }
            (None, true) => {}
        }
        Value::Object(record)
    })
}

/// How tightly a condition binds, as Janrain lists the operators.
fn binding(c: &Condition) -> u8 {
    match c {
        Condition::Or(..) => 1,
        Condition::And(..) => 2,
        Condition::Compare(_, Op::Eq | Op::Ne, _) => 3,
        Condition::Compare(..) => 4,
        Condition::Not(..) => 5,
        Condition::IsNull(..) => 6,
        Condition::Grouped(_) => 7,
    }
}

/// Write `c`, in parentheses when it binds less tightly than `at_least`; keywords in `upper`
/// case or not, operators spaced or not.
fn render(c: &Condition, at_least: u8, style: &Style) -> String {
    let text = match c {
        Condition::Or(a, b) => format!(
            "{} {} {}",
            render(a, 1, style),
            style.word("or"),
            render(b, 2, style)
        ),
        Condition::And(a, b) => format!(
            "{} {} {}",
            render(a, 2, style),
            style.word("and"),
            render(b, 3, style)
        ),
        Condition::Not(a, bang) => {
            let inner = render(a, 5, style);
            if *bang {
                format!("!{inner}")
            } else {
                format!("{} {inner}", style.word("not"))
            }
        }
        Condition::Compare(a, op, b) => {
            let op = match op {
                Op::Eq => "=",
                Op::Ne => "!=",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
            };
            let space = if style.tight { "" } else { " " };
            format!("{}{space}{op}{space}{}", operand_text(a), operand_text(b))
        }
        Condition::IsNull(a, not) => {
            let not = if *not {
                format!(" {}", style.word("not"))
            } else {
                String::new()
            };
            format!("{a} {}{not} {}", style.word("is"), style.word("null"))
        }
        Condition::Grouped(a) => format!("( {} )", render(a, 0, style)),
    };
    if binding(c) < at_least {
        format!("({text})")
    } else {
        text
    }
}

fn operand_text(o: &Operand) -> String {
    match o {
        Operand::Attribute(a) => (*a).to_owned(),
        Operand::Text(s) => format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'")),
        Operand::Integer(n) => n.to_string(),
        Operand::Boolean(b) => b.to_string(),
    }
}

#[derive(Debug, Clone)]
struct Style {
    upper: bool,
    tight: bool,
}

impl Style {
    fn word(&self, w: &str) -> String {
        if self.upper {
            w.to_uppercase()
        } else {
            w.to_owned()
        }
    }
}

/// The plain evaluator: each condition as the language's documentation says, directly.
fn holds(c: &Condition, record: &Value) -> bool {
    match c {
        Condition::Or(a, b) => holds(a, record) || holds(b, record),
        Condition::And(a, b) => holds(a, record) && holds(b, record),
        Condition::Not(a, _) => !holds(a, record),
        Condition::Grouped(a) => holds(a, record),
        Condition::IsNull(a, not) => lookup(record, a).is_none_or(Value::is_null) != *not,
        Condition::Compare(a, op, b) => {
            let (Some(x), Some(y)) = (operand_value(a, record), operand_value(b, record)) else {
                return false;
            };
            let Some(ordering) = plain_compare(&x, &y) else {
                return false;
            };
            match op {
                Op::Eq => ordering.is_eq(),
                Op::Ne => ordering.is_ne(),
                Op::Lt => ordering.is_lt(),
                Op::Le => ordering.is_le(),
                Op::Gt => ordering.is_gt(),
                Op::Ge => ordering.is_ge(),
            }
        }
    }
}

fn lookup<'a>(record: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(record, |at, name| at.get(name))
}

fn operand_value(o: &Operand, record: &Value) -> Option<Value> {
    match o {
        Operand::Attribute(a) => lookup(record, a).filter(|v| !v.is_null()).cloned(),
        Operand::Text(s) => Some(json!(s)),
        Operand::Integer(n) => Some(json!(n)),
        Operand::Boolean(b) => Some(json!(b)),
    }
}

fn plain_compare(x: &Value, y: &Value) -> Option<Ordering> {
    match (x, y) {
        (Value::Number(x), Value::Number(y)) => Some(x.as_i64()?.cmp(&y.as_i64()?)),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Number(x), Value::String(y)) => {
            (x.as_i64()? as f64).partial_cmp(&y.trim().parse::<f64>().ok()?)
        }
        (Value::String(_), Value::Number(_)) => plain_compare(y, x).map(Ordering::reverse),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::String(y)) => Some(x.cmp(&y.parse::<bool>().ok()?)),
        (Value::String(_), Value::Bool(_)) => plain_compare(y, x).map(Ordering::reverse),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn the_filter_matches_what_the_plain_evaluator_does(
        c in condition(),
        records in prop::collection::vec(record(), 1..8),
        upper in any::<bool>(),
        tight in any::<bool>(),
    ) {
        let text = render(&c, 0, &Style { upper, tight });
        let filter = Filter::parse(&text);
        prop_assert!(filter.is_ok(), "{text:?}: {filter:?}");
        let filter = filter.unwrap();
        for record in &records {
            prop_assert_eq!(filter.matches(record), holds(&c, record), "{} on {}", text, record);
        }
    }

    #[test]
    fn any_text_parses_or_is_refused(text in ".{0,40}") {
        if let Err(e) = Filter::parse(&text) {
            prop_assert!(e.position() >= 1 && e.position() <= text.chars().count() + 1, "{e}");
        }
    }

    #[test]
    fn filter_like_text_parses_or_is_refused(
        words in prop::collection::vec(
            prop::sample::select(vec!["a", "n.x", "=", "!=", "<", ">=", "not", "!", "and", "or", "is", "null", "(", ")", "'s'", "3", "-1", "true"]),
            0..12,
        ),
    ) {
        let text = words.join(" ");
        let _ = Filter::parse(&text);
    }
}
