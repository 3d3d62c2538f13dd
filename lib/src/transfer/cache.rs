//! The day's sales cache and day state (SPEC C5 "store raw sales and lines").
//!
//! One location-day is one partition `LOC#{c}#{loc}#DAY#{d}`: a `STATE` item (last run,
//! storage unit, revisions posted, which cache generation is current) and the cache itself,
//! the day's canonical sales with each line's ledger attribution, as deflated JSON split
//! into ≤ 350 KB chunks `SALES#{generation}#{n}`. Thousands of lines cost a handful of
//! writes, and "which sale caused this movement" is answered from the cached line.
//! A new generation is written beside the old one and becomes current only when the state
//! item says so, so a crash mid-write never leaves a half-written cache in use. A run that
//! changes only a few sales patches the current generation per sale instead (see
//! [`super::patches`]).

use std::collections::BTreeMap;
use std::io::Read;

use futures::{StreamExt as _, TryStreamExt as _};
use serde::{Deserialize, Serialize};

use crate::ledger::derive::LineList;
use crate::location::business_day::Window;
use crate::sales::CanonicalSale;
use crate::store::{attr, get_as, to_item, Condition, ItemStore, Key, StoreError};

/// Stays below DynamoDB's 400 KB item limit with room for the key and attributes.
const CHUNK_CHARS: usize = 350_000;

pub fn partition(company_id: &str, location_id: &str, business_date: &str) -> String {
    format!("LOC#{company_id}#{location_id}#DAY#{business_date}")
}

pub fn state_key(company_id: &str, location_id: &str, business_date: &str) -> Key {
    Key::new(partition(company_id, location_id, business_date), "STATE")
}

fn chunk_key(company_id: &str, location_id: &str, date: &str, generation: u32, n: u32) -> Key {
    Key::new(
        partition(company_id, location_id, date),
        format!("SALES#{generation:06}#{n:04}"),
    )
}

/// The GSI1 partition listing a location's day states by date (sales seen per period).
pub fn days_index(company_id: &str, location_id: &str) -> String {
    format!("LOC#{company_id}#{location_id}#DAYS")
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayState {
    pub company_id: String,
    pub location_id: String,
    pub business_date: String,
    /// Current cache generation (0 = none yet) and its chunk count.
    pub generation: u32,
    pub chunks: u32,
    /// The storage unit the attribution and revisions below refer to.
    pub storage_unit_id: Option<String>,
    /// Group → revisions posted as of the last completed run.
    pub revisions: BTreeMap<String, u32>,
    pub fetched_at: Option<String>,
    pub sales_count: usize,
    pub lines_count: usize,
    pub last_run_at: Option<String>,
    pub last_log_id: Option<String>,
    /// Sale patches written on the current generation (a sale patched twice counts twice);
    /// 0: the generation is read alone.
    #[serde(default)]
    pub patches: u32,
    #[serde(default)]
    pub version: u64,
}

/// What one cache generation holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CachedDay {
    pub fetched_at: String,
    pub window_start: String,
    pub window_end: String,
    pub pages: u32,
    pub requests: u32,
    pub sales: Vec<CanonicalSale>,
    /// Line key → what it feeds and the entries it fed.
    pub lines: LineList,
}

impl CachedDay {
    /// The business-day window the sales were read for (`None` if the text is not RFC 3339).
    pub fn window(&self) -> Option<Window> {
        let parse = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .ok()
                .map(|t| t.with_timezone(&chrono::Utc))
        };
        Some(Window {
            start: parse(&self.window_start)?,
            end: parse(&self.window_end)?,
        })
    }
}

fn malformed(what: impl std::fmt::Display) -> StoreError {
    StoreError::Malformed(format!("sales cache: {what}"))
}

/// Deflated, base64 JSON, cut into chunks (the day cache, and imported sales).
/// Serialised straight through deflate and base64 into the chunks, so the day's JSON is
/// never held whole (a 50,000-line day's is tens of megabytes).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<String>, StoreError> {
    let sink = ChunkSink::default();
    let text = base64::write::EncoderWriter::new(sink, &base64::engine::general_purpose::STANDARD);
    let packed = flate2::write::DeflateEncoder::new(text, flate2::Compression::fast());
    let mut json = std::io::BufWriter::with_capacity(64 * 1024, packed);
    serde_json::to_writer(&mut json, value).map_err(malformed)?;
    let packed = json.into_inner().map_err(|e| malformed(e.error()))?;
    let mut text = packed.finish().map_err(malformed)?;
    let sink = text.finish().map_err(malformed)?;
    Ok(sink.finish())
}

/// Read back the same way: chunk text → base64 → inflate → JSON.
pub fn decode<T: serde::de::DeserializeOwned>(chunks: &[String]) -> Result<T, StoreError> {
    let text = ChunksReader {
        chunks,
        chunk: 0,
        offset: 0,
    };
    let packed = base64::read::DecoderReader::new(text, &base64::engine::general_purpose::STANDARD);
    // Inflated whole, then parsed: `from_reader` parses a byte at a time through the
    // stream and took twice as long. The JSON is freed before the transfer holds the most
    // (the day fetched again, derived, encoded), so the peak does not grow.
    let mut json = Vec::new();
    flate2::read::DeflateDecoder::new(packed)
        .read_to_end(&mut json)
        .map_err(malformed)?;
    serde_json::from_slice(&json).map_err(malformed)
}

/// Base64 text cut into chunks of [`CHUNK_CHARS`] as it is written.
#[derive(Default)]
struct ChunkSink {
    chunks: Vec<String>,
    current: String,
}

impl ChunkSink {
    fn finish(mut self) -> Vec<String> {
        if !self.current.is_empty() {
            self.chunks.push(self.current);
        }
        self.chunks
    }
}

impl std::io::Write for ChunkSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = std::str::from_utf8(buf)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let mut rest = text;
        while !rest.is_empty() {
            let room = CHUNK_CHARS - self.current.len();
            // Base64 is ASCII, so any byte offset is a character boundary.
            let (head, tail) = rest.split_at(room.min(rest.len()));
            self.current.push_str(head);
            if self.current.len() == CHUNK_CHARS {
                self.chunks.push(std::mem::take(&mut self.current));
            }
            rest = tail;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The chunks' text read as one stream.
struct ChunksReader<'a> {
    chunks: &'a [String],
    chunk: usize,
    offset: usize,
}

impl Read for ChunksReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while let Some(chunk) = self.chunks.get(self.chunk) {
            let rest = chunk.as_bytes().get(self.offset..).unwrap_or_default();
            if rest.is_empty() {
                self.chunk += 1;
                self.offset = 0;
                continue;
            }
            let n = rest.len().min(buf.len());
            buf[..n].copy_from_slice(&rest[..n]);
            self.offset += n;
            return Ok(n);
        }
        Ok(0)
    }
}

pub async fn load_state(
    store: &dyn ItemStore,
    company_id: &str,
    location_id: &str,
    date: &str,
) -> Result<Option<DayState>, StoreError> {
    get_as(store, &state_key(company_id, location_id, date)).await
}

/// The current generation's cache with its current patches, if any.
pub async fn load(
    store: &dyn ItemStore,
    state: &DayState,
) -> Result<Option<CachedDay>, StoreError> {
    if state.generation == 0 {
        return Ok(None);
    }
    let mut chunks = Vec::with_capacity(state.chunks as usize);
    for n in 0..state.chunks {
        let key = chunk_key(
            &state.company_id,
            &state.location_id,
            &state.business_date,
            state.generation,
            n,
        );
        let item = store.get(&key).await?.ok_or_else(|| {
            malformed(format!(
                "chunk {n} of generation {} is missing",
                state.generation
            ))
        })?;
        match item.get("data").and_then(|v| v.as_str()) {
            Some(data) => chunks.push(data.to_string()),
            None => return Err(malformed(format!("chunk {n} has no data"))),
        }
    }
    let mut day: CachedDay = decode(&chunks)?;
    drop(chunks);
    if state.patches > 0 {
        super::patches::apply(&mut day, super::patches::current(store, state).await?);
        if let Some(fetched_at) = &state.fetched_at {
            day.fetched_at.clone_from(fetched_at);
        }
    }
    Ok(Some(day))
}

/// Writes `day` as generation `generation` (not yet current); returns its chunk count.
pub async fn write_generation(
    store: &dyn ItemStore,
    state: &DayState,
    generation: u32,
    day: &CachedDay,
) -> Result<u32, StoreError> {
    let chunks = encode(day)?;
    let count = chunks.len() as u32;
    // The generation is read only once the state names it, so its chunks go in any order,
    // a few at a time (each item built as it is sent). A leftover of a crashed run with the
    // same generation is simply replaced.
    let puts: Vec<_> = chunks
        .into_iter()
        .enumerate()
        .map(|(n, data)| write_chunk(store, state, generation, n as u32, data))
        .collect();
    futures::stream::iter(puts)
        .buffer_unordered(super::engine::PARALLEL_WRITES)
        .try_collect::<()>()
        .await?;
    Ok(count)
}

/// One chunk of a generation, its item built as it is sent.
async fn write_chunk(
    store: &dyn ItemStore,
    state: &DayState,
    generation: u32,
    n: u32,
    data: String,
) -> Result<(), StoreError> {
    let key = chunk_key(
        &state.company_id,
        &state.location_id,
        &state.business_date,
        generation,
        n,
    );
    let mut item = to_item(&serde_json::json!({ "data": data }), &key)?;
    item.insert("generation".into(), generation.into());
    store.put(item, Condition::None).await
}

/// Makes the state (and with it a generation) current: created, or replaced at the version read.
pub async fn save_state(store: &dyn ItemStore, state: &DayState) -> Result<(), StoreError> {
    let mut next = state.clone();
    next.version = state.version + 1;
    let key = state_key(&state.company_id, &state.location_id, &state.business_date);
    let mut item = to_item(&next, &key)?;
    item.insert(
        attr::GSI1PK.into(),
        days_index(&state.company_id, &state.location_id).into(),
    );
    item.insert(attr::GSI1SK.into(), state.business_date.clone().into());
    let condition = Condition::replacing(state.version);
    store.put(item, condition).await
}

/// Removes a superseded generation (best effort: a leftover is harmless and replaced later).
pub async fn drop_generation(
    store: &dyn ItemStore,
    state: &DayState,
    generation: u32,
    chunks: u32,
) {
    for n in 0..chunks {
        let key = chunk_key(
            &state.company_id,
            &state.location_id,
            &state.business_date,
            generation,
            n,
        );
        if let Err(err) = store.delete(&key, Condition::None).await {
            tracing::warn!(generation, chunk = n, error = %err, "old sales cache chunk left behind");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_written_whole_by_earlier_versions_still_decode() {
        use base64::Engine as _;
        use std::io::Write as _;
        let day = CachedDay {
            fetched_at: "2026-03-01T05:00:00Z".into(),
            window_start: "2026-03-01T05:00:00Z".into(),
            ..CachedDay::default()
        };
        // The format as it was written before encoding streamed: one JSON buffer,
        // deflated, base64, cut every CHUNK_CHARS characters.
        let json = serde_json::to_vec(&day).unwrap();
        let mut deflate =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        deflate.write_all(&json).unwrap();
        let text = base64::engine::general_purpose::STANDARD.encode(deflate.finish().unwrap());
        let chunks: Vec<String> = text
            .as_bytes()
            .chunks(7)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        assert!(chunks.len() > 1);
        assert_eq!(decode::<CachedDay>(&chunks).unwrap(), day);
        assert_eq!(decode::<CachedDay>(&encode(&day).unwrap()).unwrap(), day);
    }

    #[test]
    fn large_days_split_into_chunks_and_come_back_whole() {
        let mut day = CachedDay {
            fetched_at: "2026-03-01T05:00:00Z".into(),
            ..CachedDay::default()
        };
        // Incompressible-ish keys make the payload span several chunks.
        for i in 0..40_000u32 {
            day.lines.push(
                &format!("{:x}/{i}", i.wrapping_mul(2_654_435_761)),
                crate::ledger::derive::LineState {
                    contributions: Default::default(),
                    entries: [format!("su:l:2026-03-01:{}:S0", i.wrapping_mul(40_503))].into(),
                },
            );
        }
        let chunks = encode(&day).unwrap();
        assert!(chunks.len() > 1, "{} chunk(s)", chunks.len());
        assert!(chunks.iter().all(|c| c.len() <= CHUNK_CHARS));
        assert_eq!(decode::<CachedDay>(&chunks).unwrap(), day);
    }

    #[test]
    fn a_damaged_cache_is_an_error_not_a_panic() {
        assert!(decode::<CachedDay>(&["not base64 !".into()]).is_err());
        assert!(decode::<CachedDay>(&["AAAA".into()]).is_err());
    }
}
