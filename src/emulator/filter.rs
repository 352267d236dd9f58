//! The filter language of `entity.find` and `entity.count`, parsed once and matched against
//! records.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::path::{self, AttrPath};

/// A filter of Identity Cloud's `entity.find` language, as the emulator reads it.
///
/// The operators, from the tightest to the loosest, as Janrain documents them:
///
/// | operators | |
/// |---|---|
/// | `is null`, `is not null` | postfix: the attribute is (not) set |
/// | `not`, `!` | prefix: the condition that follows does not hold |
/// | `>`, `>=`, `<`, `<=` | compare |
/// | `=`, `!=` | compare |
/// | `and` | both conditions hold |
/// | `or` | either holds |
///
/// Parentheses group. Operands are attribute paths (`email`, `primaryAddress.city`; names of
/// letters, digits and `_`, not beginning with a digit), strings in single quotes
/// (`'fsmith@example.com'`), numbers (`42`, `-1.5`) and `true` / `false`. Keywords are read
/// whatever their case.
///
/// What Janrain leaves unsaid, decided here (and how the emulator answers it):
///
/// * A quote inside a string is written `\'`, a backslash `\\`.
/// * Because `not` binds tighter than comparisons, `not email = 'a'` would negate the
///   attribute, not the comparison: it is refused; write `not (email = 'a')`.
/// * A comparison with an attribute that is not set (or `null`) is false, `!=` included, as
///   in SQL; ask `is null` for those records.
/// * A number compares with a number; a string with a string, in byte (ASCII) order; a
///   number with a string that reads as a number (`id > '10'`, as Janrain allows integers in
///   quotes) numerically; `true` / `false` with a boolean or with the strings `'true'` /
///   `'false'`. Any other pair is not comparable: false.
/// * A path through a plural (a list of objects) matches when any element matches.
/// * There is no schema, so every name is an attribute; one no record has is never set.
///   Janrain's removed `contains` operator is refused like any text outside the language.
///
/// ```
/// use janrain_auth::emulator::Filter;
/// use serde_json::json;
///
/// let filter = Filter::parse("(gender = 'female' or age >= 30) and email is not null")?;
/// assert!(filter.matches(&json!({"gender": "female", "email": "a@example.com"})));
/// assert!(!filter.matches(&json!({"age": 31})));
/// assert!(Filter::parse("email contains 'example'").is_err());
/// # Ok::<(), janrain_auth::emulator::FilterError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    condition: Condition,
}

/// Why a filter is not in the language: what was wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (at character {position})")]
pub struct FilterError {
    message: String,
    position: usize,
}

impl FilterError {
    fn new(message: impl Into<String>, position: usize) -> Self {
        FilterError {
            message: message.into(),
            position,
        }
    }

    /// Where in the filter (a character count from the start, from 1) the problem was seen.
    pub fn position(&self) -> usize {
        self.position
    }
}

impl Filter {
    /// Parse `text`.
    pub fn parse(text: &str) -> Result<Filter, FilterError> {
        let tokens = lex(text)?;
        let mut parser = Parser { tokens, next: 0 };
        let node = parser.or()?;
        let (token, position) = parser.peek();
        if *token != Token::End {
            return Err(FilterError::new(
                format!("unexpected {token} after a complete condition"),
                position,
            ));
        }
        match node {
            Node::Condition(condition) => Ok(Filter { condition }),
            Node::Term(_) => Err(FilterError::new(
                "a filter is a condition, such as email = 'a@example.com' or birthday is not null",
                1,
            )),
        }
    }

    /// Whether `record` satisfies the filter.
    pub fn matches(&self, record: &Value) -> bool {
        self.condition.holds(record)
    }
}

impl std::str::FromStr for Filter {
    type Err = FilterError;

    fn from_str(s: &str) -> Result<Self, FilterError> {
        Filter::parse(s)
    }
}

/// A condition: what a filter, `not`, `and`, `or` and parentheses hold.
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Term, Op, Term),
    IsNull(Term),
}

/// What a comparison compares.
#[derive(Debug, Clone, PartialEq)]
enum Term {
    Attribute(AttrPath),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Condition {
    fn holds(&self, record: &Value) -> bool {
        match self {
            Condition::Or(a, b) => a.holds(record) || b.holds(record),
            Condition::And(a, b) => a.holds(record) && b.holds(record),
            Condition::Not(a) => !a.holds(record),
            Condition::IsNull(term) => term.values(record).iter().all(|v| v.is_null()),
            Condition::Compare(a, op, b) => {
                let (left, right) = (a.values(record), b.values(record));
                left.iter()
                    .any(|x| right.iter().any(|y| op.holds(compare_values(x, y))))
            }
        }
    }
}

impl Term {
    fn values<'a>(&'a self, record: &'a Value) -> Vec<&'a Value> {
        match self {
            Term::Attribute(path) => path::values_at(record, path),
            Term::Literal(value) => vec![value],
        }
    }
}

impl Op {
    fn holds(self, ordering: Option<Ordering>) -> bool {
        let Some(ordering) = ordering else {
            return false;
        };
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
        }
    }
}

/// How two values compare in a filter, `None` when they cannot (a `null`, an object, a
/// string that is not a number beside a number, ...).
fn compare_values(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => compare_numbers(x, y),
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Number(x), Value::String(y)) => {
            x.as_f64()?.partial_cmp(&y.trim().parse::<f64>().ok()?)
        }
        (Value::String(_), Value::Number(_)) => compare_values(b, a).map(Ordering::reverse),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Bool(x), Value::String(y)) => Some(x.cmp(&y.parse::<bool>().ok()?)),
        (Value::String(_), Value::Bool(_)) => compare_values(b, a).map(Ordering::reverse),
        _ => None,
    }
}

/// Integers exactly, anything else as floats.
pub(super) fn compare_numbers(x: &serde_json::Number, y: &serde_json::Number) -> Option<Ordering> {
    match (x.as_i64(), y.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => x.as_f64()?.partial_cmp(&y.as_f64()?),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Name(Vec<String>),
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
    Open,
    Close,
    Op(Op),
    Bang,
    Not,
    And,
    Or,
    Is,
    End,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Name(names) => write!(f, "the attribute {}", names.join(".")),
            Token::Str(_) => f.write_str("a string"),
            Token::Num(n) => write!(f, "the number {n}"),
            Token::Bool(b) => write!(f, "{b}"),
            Token::Null => f.write_str("null"),
            Token::Open => f.write_str("'('"),
            Token::Close => f.write_str("')'"),
            Token::Op(op) => f.write_str(match op {
                Op::Eq => "'='",
                Op::Ne => "'!='",
                Op::Lt => "'<'",
                Op::Le => "'<='",
                Op::Gt => "'>'",
                Op::Ge => "'>='",
            }),
            Token::Bang => f.write_str("'!'"),
            Token::Not => f.write_str("not"),
            Token::And => f.write_str("and"),
            Token::Or => f.write_str("or"),
            Token::Is => f.write_str("is"),
            Token::End => f.write_str("the end of the filter"),
        }
    }
}

/// The tokens of `text`, each with its position (characters from the start, from 1).
fn lex(text: &str) -> Result<Vec<(Token, usize)>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let two = chars.get(i + 1).copied();
        let (token, len) = match (c, two) {
            ('(', _) => (Token::Open, 1),
            (')', _) => (Token::Close, 1),
            ('!', Some('=')) => (Token::Op(Op::Ne), 2),
            ('!', _) => (Token::Bang, 1),
            ('=', _) => (Token::Op(Op::Eq), 1),
            ('<', Some('=')) => (Token::Op(Op::Le), 2),
            ('<', Some('>')) => {
                return Err(FilterError::new("write != for 'not equal', not <>", at));
            }
            ('<', _) => (Token::Op(Op::Lt), 1),
            ('>', Some('=')) => (Token::Op(Op::Ge), 2),
            ('>', _) => (Token::Op(Op::Gt), 1),
            ('\'', _) => {
                let (text, len) = string(&chars[i..], at)?;
                (Token::Str(text), len)
            }
            (c, _)
                if c.is_ascii_digit() || (c == '-' && two.is_some_and(|d| d.is_ascii_digit())) =>
            {
                let len = chars[i + 1..]
                    .iter()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
                    .count()
                    + 1;
                let text: String = chars[i..i + len].iter().collect();
                let number = text
                    .parse::<i64>()
                    .map(serde_json::Number::from)
                    .ok()
                    .or_else(|| {
                        text.parse::<f64>()
                            .ok()
                            .and_then(serde_json::Number::from_f64)
                    })
                    .ok_or_else(|| FilterError::new(format!("{text} is not a number"), at))?;
                (Token::Num(number), len)
            }
            (c, _) if c.is_alphabetic() || c == '_' => {
                let len = chars[i..]
                    .iter()
                    .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '.'))
                    .count();
                let word: String = chars[i..i + len].iter().collect();
                (word_token(&word, at)?, len)
            }
            (c, _) => {
                return Err(FilterError::new(
                    format!("{c:?} is not part of the filter language"),
                    at,
                ));
            }
        };
        tokens.push((token, at));
        i += len;
    }
    tokens.push((Token::End, chars.len() + 1));
    Ok(tokens)
}

/// A keyword, `true` / `false`, or an attribute path.
fn word_token(word: &str, at: usize) -> Result<Token, FilterError> {
    let keyword = match word.to_ascii_lowercase().as_str() {
        "and" => Some(Token::And),
        "or" => Some(Token::Or),
        "not" => Some(Token::Not),
        "is" => Some(Token::Is),
        "null" => Some(Token::Null),
        "true" => Some(Token::Bool(true)),
        "false" => Some(Token::Bool(false)),
        "contains" => {
            return Err(FilterError::new(
                "the contains operator was removed from the language; compare whole values",
                at,
            ));
        }
        _ => None,
    };
    if let Some(token) = keyword {
        return Ok(token);
    }
    let names: Vec<String> = word.split('.').map(str::to_owned).collect();
    let good = |name: &String| {
        name.chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
    };
    if !names.iter().all(good) {
        return Err(FilterError::new(
            format!("{word} is not an attribute path (names separated by single dots)"),
            at,
        ));
    }
    Ok(Token::Name(names))
}

/// A single-quoted string at the start of `chars`: its text and how many characters it took.
fn string(chars: &[char], at: usize) -> Result<(String, usize), FilterError> {
    let mut text = String::new();
    let mut i = 1;
    while let Some(&c) = chars.get(i) {
        match c {
            '\'' => return Ok((text, i + 1)),
            '\\' => match chars.get(i + 1) {
                Some(&escaped @ ('\'' | '\\')) => {
                    text.push(escaped);
                    i += 2;
                }
                _ => {
                    return Err(FilterError::new(
                        "inside a string, a backslash escapes a quote (\\') or a backslash (\\\\) only",
                        at + i,
                    ));
                }
            },
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Err(FilterError::new(
        "a string is not closed by a single quote",
        at,
    ))
}

/// What a part of the filter is: a condition, or an operand.
enum Node {
    Condition(Condition),
    Term(Term),
}

struct Parser {
    tokens: Vec<(Token, usize)>,
    next: usize,
}

impl Parser {
    fn peek(&self) -> (&Token, usize) {
        let (token, at) = &self.tokens[self.next.min(self.tokens.len() - 1)];
        (token, *at)
    }

    fn take(&mut self) -> (Token, usize) {
        let (token, at) = self.tokens[self.next.min(self.tokens.len() - 1)].clone();
        if token != Token::End {
            self.next += 1;
        }
        (token, at)
    }

    fn or(&mut self) -> Result<Node, FilterError> {
        self.joined(Token::Or, Self::and, Condition::Or)
    }

    fn and(&mut self) -> Result<Node, FilterError> {
        self.joined(Token::And, Self::equality, Condition::And)
    }

    /// Conditions joined by `keyword`, from the left, each read by `operand`.
    fn joined(
        &mut self,
        keyword: Token,
        operand: fn(&mut Self) -> Result<Node, FilterError>,
        join: fn(Box<Condition>, Box<Condition>) -> Condition,
    ) -> Result<Node, FilterError> {
        let mut left = operand(self)?;
        while *self.peek().0 == keyword {
            let (_, at) = self.take();
            let right = operand(self)?;
            let name = keyword.to_string();
            left = Node::Condition(join(
                Box::new(condition(left, &name, at)?),
                Box::new(condition(right, &name, at)?),
            ));
        }
        Ok(left)
    }

    fn equality(&mut self) -> Result<Node, FilterError> {
        let left = self.relation()?;
        self.comparison(left, &[Op::Eq, Op::Ne], Self::relation)
    }

    fn relation(&mut self) -> Result<Node, FilterError> {
        let left = self.unary()?;
        self.comparison(left, &[Op::Lt, Op::Le, Op::Gt, Op::Ge], Self::unary)
    }

    /// `left OP right` for one of `ops`, if one follows; comparisons do not chain.
    fn comparison(
        &mut self,
        left: Node,
        ops: &[Op],
        operand: fn(&mut Self) -> Result<Node, FilterError>,
    ) -> Result<Node, FilterError> {
        let op = match self.peek().0 {
            Token::Op(op) if ops.contains(op) => *op,
            _ => return Ok(left),
        };
        let (token, at) = self.take();
        let right = operand(self)?;
        let node = Node::Condition(Condition::Compare(
            term(left, &token, at)?,
            op,
            term(right, &token, at)?,
        ));
        if let (Token::Op(_), next) = self.peek() {
            return Err(FilterError::new(
                "comparisons do not chain; join them with and",
                next,
            ));
        }
        Ok(node)
    }

    fn unary(&mut self) -> Result<Node, FilterError> {
        if matches!(self.peek().0, Token::Not | Token::Bang) {
            let (token, at) = self.take();
            let operand = self.unary()?;
            return match operand {
                Node::Condition(c) => Ok(Node::Condition(Condition::Not(Box::new(c)))),
                Node::Term(_) => Err(FilterError::new(
                    format!(
                        "{token} applies to the condition that follows it, and binds tighter \
                         than a comparison: write {token} (a = 'b')"
                    ),
                    at,
                )),
            };
        }
        self.postfix()
    }

    fn postfix(&mut self) -> Result<Node, FilterError> {
        let mut node = self.primary()?;
        while *self.peek().0 == Token::Is {
            let (_, at) = self.take();
            let negated = *self.peek().0 == Token::Not;
            if negated {
                self.take();
            }
            let (token, next) = self.take();
            if token != Token::Null {
                return Err(FilterError::new(
                    format!("is is followed by null or not null, not {token}"),
                    next,
                ));
            }
            let operand = term(node, &Token::Is, at)?;
            let is_null = Condition::IsNull(operand);
            node = Node::Condition(if negated {
                Condition::Not(Box::new(is_null))
            } else {
                is_null
            });
        }
        Ok(node)
    }

    fn primary(&mut self) -> Result<Node, FilterError> {
        let (token, at) = self.take();
        match token {
            Token::Name(names) => Ok(Node::Term(Term::Attribute(AttrPath::of_names(names)))),
            Token::Str(s) => Ok(Node::Term(Term::Literal(Value::String(s)))),
            Token::Num(n) => Ok(Node::Term(Term::Literal(Value::Number(n)))),
            Token::Bool(b) => Ok(Node::Term(Term::Literal(Value::Bool(b)))),
            Token::Open => {
                let inner = self.or()?;
                match self.take() {
                    (Token::Close, _) => Ok(inner),
                    (other, at) => Err(FilterError::new(
                        format!("expected ')' to close the '(', found {other}"),
                        at,
                    )),
                }
            }
            Token::Null => Err(FilterError::new(
                "null is not a value to compare with: write attribute is null",
                at,
            )),
            other => Err(FilterError::new(
                format!("expected an attribute, a value or '(', found {other}"),
                at,
            )),
        }
    }
}

/// `node` as the condition `and` / `or` joins.
fn condition(node: Node, joined_by: &str, at: usize) -> Result<Condition, FilterError> {
    match node {
        Node::Condition(c) => Ok(c),
        Node::Term(_) => Err(FilterError::new(
            format!("{joined_by} joins conditions (such as a = 'b'), not bare values"),
            at,
        )),
    }
}

/// `node` as an operand of `op`.
fn term(node: Node, op: &Token, at: usize) -> Result<Term, FilterError> {
    match node {
        Node::Term(t) => Ok(t),
        Node::Condition(_) => Err(FilterError::new(
            format!("{op} takes an attribute or a value, not a condition"),
            at,
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn matches(filter: &str, record: Value) -> bool {
        Filter::parse(filter).unwrap().matches(&record)
    }

    #[test]
    fn operators_and_precedence() {
        let r = json!({"a": 1, "b": "x", "c": null, "d": true, "n": {"m": 5}});
        assert!(matches("a = 1", r.clone()));
        assert!(matches("a = '1'", r.clone()));
        assert!(matches("a >= 1 and a <= 1 and a < 2 and a > 0", r.clone()));
        assert!(matches("b != 'y' and b = 'x'", r.clone()));
        assert!(matches(
            "c is null and missing is null and a is not null",
            r.clone()
        ));
        assert!(matches("not c is not null", r.clone()));
        assert!(matches("!(a = 2) OR a = 5", r.clone()));
        assert!(matches("a = 2 or b = 'x' and d = true", r.clone()));
        assert!(!matches("(a = 2 or b = 'x') and d = false", r.clone()));
        assert!(matches("n.m > 4 and d = 'true'", r.clone()));
        // Comparisons with what is not set are false, != too.
        assert!(!matches("c != 'x'", r.clone()));
        assert!(!matches("missing = missing", r.clone()));
        // Not comparable: false.
        assert!(!matches("b > 1", r.clone()));
        assert!(!matches("n > 1", r));
    }

    #[test]
    fn strings_numbers_and_plurals() {
        let r = json!({"s": "it's", "x": -1.5, "p": [{"v": "a"}, {"v": "b"}], "big": 9007199254740993i64});
        assert!(matches(r"s = 'it\'s'", r.clone()));
        assert!(matches("x < -1 and x > -2.5e0", r.clone()));
        assert!(matches("p.v = 'b' and p.v != 'b'", r.clone()));
        assert!(!matches("p.v = 'c'", r.clone()));
        assert!(matches("big > 9007199254740992", r.clone()));
        assert!(matches("s > 'it'", r));
    }

    #[test]
    fn refusals_say_what_and_where() {
        for (text, needle) in [
            ("", "expected an attribute"),
            ("email", "a filter is a condition"),
            ("not email = 'a'", "write not (a = 'b')"),
            ("a = 1 = 2", "do not chain"),
            ("a = 1 and", "expected an attribute"),
            ("a = 'open", "not closed"),
            ("(a = 1", "expected ')'"),
            ("a = 1)", "unexpected ')'"),
            ("a is 1", "null or not null"),
            ("a = null", "null is not a value"),
            ("email contains 'x'", "contains operator"),
            ("a <> 1", "write !="),
            ("a = 1 ; drop", "';' is not part"),
            ("a..b = 1", "not an attribute path"),
            ("1x = 2", "is not a number"),
            ("a and b", "joins conditions"),
            ("(a = 1) = 2", "not a condition"),
            (r"a = 'x\y'", "backslash"),
        ] {
            let e = Filter::parse(text).unwrap_err();
            assert!(e.to_string().contains(needle), "{text:?}: {e}");
            assert!(e.position() >= 1, "{text:?}");
        }
        let e = Filter::parse("a = 1 and b ? 2").unwrap_err();
        assert_eq!(e.position(), 13);
    }
}
