//! The parameter lines of the string to sign: what a parameter is to it ([`Param`], read
//! through [`Params`] from a list of any shape), and the two orders of the lines
//! ([`ParamOrder`]). The sort that puts them in order is [`super::line_sort`].

/// One request parameter: a key and a value, as raw bytes (UTF-8 for anything a client sends).
///
/// Implemented for pairs of anything that is `AsRef<[u8]>` (`(&str, &str)`, `(String, String)`,
/// `(Vec<u8>, Cow<str>)`, ...) and for references to parameters.
pub trait Param {
    /// The key bytes.
    fn key(&self) -> &[u8];
    /// The value bytes.
    fn value(&self) -> &[u8];
}

impl<K: AsRef<[u8]>, V: AsRef<[u8]>> Param for (K, V) {
    #[inline]
    fn key(&self) -> &[u8] {
        self.0.as_ref()
    }
    #[inline]
    fn value(&self) -> &[u8] {
        self.1.as_ref()
    }
}

impl<P: Param + ?Sized> Param for &P {
    #[inline]
    fn key(&self) -> &[u8] {
        (**self).key()
    }
    #[inline]
    fn value(&self) -> &[u8] {
        (**self).value()
    }
}

/// An ordered list of parameters, as the string to sign reads it: slices, arrays and vectors of
/// [`Param`]s, and [`crate::params::ParamList`] (decoded from a query string or form body).
pub trait Params {
    /// How many parameters there are.
    fn param_count(&self) -> usize;
    /// The key of parameter `i` (`i < param_count()`).
    fn param_key(&self, i: usize) -> &[u8];
    /// The value of parameter `i` (`i < param_count()`).
    fn param_value(&self, i: usize) -> &[u8];
}

impl<P: Param> Params for [P] {
    #[inline]
    fn param_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<P: Param, const N: usize> Params for [P; N] {
    #[inline]
    fn param_count(&self) -> usize {
        N
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<P: Param> Params for Vec<P> {
    #[inline]
    fn param_count(&self) -> usize {
        self.len()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        self[i].key()
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        self[i].value()
    }
}

impl<L: Params + ?Sized> Params for &L {
    #[inline]
    fn param_count(&self) -> usize {
        (**self).param_count()
    }
    #[inline]
    fn param_key(&self, i: usize) -> &[u8] {
        (**self).param_key(i)
    }
    #[inline]
    fn param_value(&self, i: usize) -> &[u8] {
        (**self).param_value(i)
    }
}

/// How the parameter lines are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ParamOrder {
    /// Sort the whole `key=value` lines by their bytes, as the reference Python library and the
    /// documented Python sample do. The canonical order.
    #[default]
    Line,
    /// Sort by key (then by value, so that the order never depends on the request's order), as
    /// the Java, JavaScript, PHP and Ruby samples do. It differs from [`ParamOrder::Line`] only
    /// when one key is a strict prefix of another and the longer key continues with a byte below
    /// `=` (`birthdate` / `birthdate.year`, `key` / `key1`).
    Key,
}
