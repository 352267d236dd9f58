//! A request body that arrives in chunks and then ends, fails or never ends.

use super::*;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    Complete,
    Error,
    Stall,
}

pub(crate) struct FuzzBody {
    pub(crate) chunks: VecDeque<Bytes>,
    pub(crate) end: End,
}

impl FuzzBody {
    pub(crate) fn new(bytes: &[u8], chunk: u8, end: End) -> Self {
        let size = 1 + usize::from(chunk);
        FuzzBody {
            chunks: bytes.chunks(size).map(Bytes::copy_from_slice).collect(),
            end,
        }
    }
}

impl From<Bytes> for FuzzBody {
    fn from(bytes: Bytes) -> Self {
        FuzzBody {
            chunks: VecDeque::from([bytes]),
            end: End::Complete,
        }
    }
}

impl Body for FuzzBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(chunk) = self.chunks.pop_front() {
            return Poll::Ready(Some(Ok(Frame::data(chunk))));
        }
        match self.end {
            End::Complete => Poll::Ready(None),
            End::Error => {
                self.end = End::Complete;
                Poll::Ready(Some(Err(std::io::Error::other("connection reset"))))
            }
            End::Stall => Poll::Pending,
        }
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
