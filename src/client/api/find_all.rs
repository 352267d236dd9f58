//! [`JanrainClient::find_all`]: every record `entity.find` finds, fetched page by page.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{Error, JanrainClient};
use crate::client::encode::{to_json_text, to_params};

/// Records per `entity.find` page when the parameters give no `max_results`.
pub const DEFAULT_PAGE_SIZE: u32 = 100;

impl JanrainClient {
    /// Every record `entity.find` finds for `params`, as a [`Stream`](futures_core::Stream),
    /// fetched page by page the way Identity Cloud recommends for large result sets: sorted on
    /// `id`, each page asking for the records after the last one seen.
    ///
    /// * `params` are `entity.find`'s (`type_name`, `filter`, `attributes`, `max_results`,
    ///   ...), encoded by Janrain's rule.
    /// * Each page sends `sort_on=["id"]` and the filter `id > N` (`N` the last page's last
    ///   id); your own `filter` is kept: `(your filter) and id > N`.
    /// * `max_results` is the page size (default [`DEFAULT_PAGE_SIZE`]). A page with fewer
    ///   records ends the stream.
    /// * When `attributes` is a JSON list that lacks `id`, `id` is added: paging needs it.
    /// * `sort_on` and `first_result` cannot be combined with this paging, and are refused
    ///   ([`Error::Paging`]), as is an answer whose last record has no integer `id` or does not
    ///   move past the previous page.
    ///
    /// Each record is deserialized into `T`; a record that does not fit is an `Err` item
    /// ([`Error::Decode`]) and the stream goes on. Any other error is the last item.
    ///
    /// ```no_run
    /// # async fn run(janrain: janrain_auth::client::JanrainClient) -> Result<(), janrain_auth::client::Error> {
    /// let params = serde_json::json!({
    ///     "type_name": "user",
    ///     "filter": "emailVerified is not null",
    ///     "attributes": ["uuid", "email"],
    ///     "max_results": 1000,
    /// });
    /// let mut users = janrain.find_all::<_, serde_json::Value>(&params);
    /// while let Some(user) = users.next().await {
    ///     println!("{}", user?["email"]);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn find_all<P, T>(&self, params: &P) -> Records<T>
    where
        P: Serialize + ?Sized,
        T: DeserializeOwned,
    {
        let pager = to_params(params)
            .map_err(Error::from)
            .and_then(|params| Pager::new(self.clone(), params));
        let (pager, failed) = match pager {
            Ok(pager) => (Some(pager), None),
            Err(e) => (None, Some(e)),
        };
        Records {
            pager,
            fetch: None,
            buffer: Vec::new().into_iter(),
            failed,
            record: PhantomData,
        }
    }
}

/// What `find_all` needs to ask for the next page.
struct Pager {
    client: JanrainClient,
    /// The user's parameters without `filter`, `max_results` and `sort_on`.
    params: Vec<(String, String)>,
    filter: Option<String>,
    page_size: u32,
    last_id: Option<i64>,
}

impl Pager {
    fn new(client: JanrainClient, all: Vec<(String, String)>) -> Result<Self, Error> {
        let mut params = Vec::with_capacity(all.len() + 2);
        let mut filter = None;
        let mut page_size = DEFAULT_PAGE_SIZE;
        for (key, value) in all {
            match key.as_str() {
                "sort_on" | "first_result" => {
                    return Err(Error::Paging(
                        "find_all sorts on id and pages by id; leave sort_on and first_result out",
                    ));
                }
                "filter" => filter = Some(value).filter(|f| !f.trim().is_empty()),
                "max_results" => {
                    page_size = value
                        .trim()
                        .parse()
                        .ok()
                        .filter(|&n| n > 0)
                        .ok_or(Error::Paging("max_results must be a positive whole number"))?;
                }
                "attributes" => {
                    let value = match serde_json::from_str::<Vec<String>>(&value) {
                        Ok(mut names) if !names.iter().any(|n| n == "id") => {
                            names.push("id".to_owned());
                            to_json_text(&names).unwrap_or(value)
                        }
                        _ => value,
                    };
                    params.push((key, value));
                }
                _ => params.push((key, value)),
            }
        }
        Ok(Pager {
            client,
            params,
            filter,
            page_size,
            last_id: None,
        })
    }

    /// The request for the next page.
    fn fetch(&self) -> PageFuture {
        let mut params = self.params.clone();
        let filter = match (&self.filter, self.last_id) {
            (Some(f), Some(id)) => Some(format!("({f}) and id > {id}")),
            (None, Some(id)) => Some(format!("id > {id}")),
            (Some(f), None) => Some(f.clone()),
            (None, None) => None,
        };
        if let Some(filter) = filter {
            params.push(("filter".to_owned(), filter));
        }
        params.push(("sort_on".to_owned(), r#"["id"]"#.to_owned()));
        params.push(("max_results".to_owned(), self.page_size.to_string()));
        let client = self.client.clone();
        Box::pin(async move {
            let url = client.url("entity.find")?;
            let (status, mut answer) = client.post(url, &params).await?;
            match answer.get_mut("results").map(Value::take) {
                Some(Value::Array(records)) => Ok(records),
                _ => Err(Error::Decode {
                    status,
                    source: serde::de::Error::missing_field("results"),
                }),
            }
        })
    }
}

type PageFuture = Pin<Box<dyn Future<Output = Result<Vec<Value>, Error>> + Send>>;

/// The records of [`JanrainClient::find_all`]: a [`Stream`](futures_core::Stream) of
/// `Result<T, Error>` that fetches the next page when the current one is used up. Use it with
/// `futures_util::StreamExt` or [`Records::next`].
#[must_use = "a stream does nothing unless polled"]
pub struct Records<T> {
    pager: Option<Pager>,
    fetch: Option<PageFuture>,
    buffer: std::vec::IntoIter<Value>,
    /// An error to yield once the buffered records are out.
    failed: Option<Error>,
    record: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Records<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Records")
            .field("buffered", &self.buffer.len())
            .field("last_id", &self.pager.as_ref().and_then(|p| p.last_id))
            .field("done", &self.pager.is_none())
            .finish_non_exhaustive()
    }
}

impl<T: DeserializeOwned> Records<T> {
    /// The next record, `None` after the last one (or after an error).
    pub async fn next(&mut self) -> Option<Result<T, Error>> {
        std::future::poll_fn(|cx| futures_core::Stream::poll_next(Pin::new(&mut *self), cx)).await
    }

    /// Take in a page: where the next one starts, or why there is none.
    fn accept(&mut self, records: Vec<Value>) {
        let Some(pager) = self.pager.as_mut() else {
            return;
        };
        if records.len() < pager.page_size as usize {
            self.pager = None;
        } else {
            let last = records.last().and_then(|r| record_id(&r["id"]));
            match last {
                Some(id) if pager.last_id.is_none_or(|before| id > before) => {
                    pager.last_id = Some(id);
                }
                Some(_) => {
                    self.failed = Some(Error::Paging(
                        "the answer did not move past the previous page's last id",
                    ));
                    self.pager = None;
                }
                None => {
                    self.failed = Some(Error::Paging(
                        "a full page's last record has no integer id to continue from",
                    ));
                    self.pager = None;
                }
            }
        }
        self.buffer = records.into_iter();
    }
}

fn record_id(id: &Value) -> Option<i64> {
    match id {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

impl<T: DeserializeOwned> futures_core::Stream for Records<T> {
    type Item = Result<T, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(record) = this.buffer.next() {
                return Poll::Ready(Some(T::deserialize(record).map_err(|source| {
                    Error::Decode {
                        status: StatusCode::OK,
                        source,
                    }
                })));
            }
            if let Some(fetch) = this.fetch.as_mut() {
                let page = std::task::ready!(fetch.as_mut().poll(cx));
                this.fetch = None;
                match page {
                    Ok(records) => this.accept(records),
                    Err(e) => {
                        this.pager = None;
                        return Poll::Ready(Some(Err(e)));
                    }
                }
                continue;
            }
            match &this.pager {
                Some(pager) => this.fetch = Some(pager.fetch()),
                None => return Poll::Ready(this.failed.take().map(Err)),
            }
        }
    }
}
