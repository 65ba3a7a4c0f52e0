//! What a redactor remembers per thread so repeated keys and values cost no second
//! judgement: key verdicts and values found clean, each in a direct-mapped table.

/// Verdicts on attribute keys, per thread and redactor: keys repeat from span to span
/// (usually the same static strings), and judging one takes a glob match per pattern.
/// A direct-mapped table indexed by the key's address, each slot checked against the
/// key's text, so a reused address can never return another key's verdict; bounded by
/// construction.
pub(crate) struct JudgedKeys {
    slots: Vec<Option<(usize, Box<str>, bool)>>,
}

const JUDGED_SLOTS: usize = 256;

impl Default for JudgedKeys {
    fn default() -> Self {
        JudgedKeys {
            slots: vec![None; JUDGED_SLOTS],
        }
    }
}

impl JudgedKeys {
    pub(crate) fn verdict(&mut self, key: &str, judge: impl FnOnce(&str) -> bool) -> bool {
        let address = key.as_ptr() as usize;
        let slot = slot_of(key, JUDGED_SLOTS);
        if let Some((at, text, verdict)) = &self.slots[slot] {
            if *at == address && **text == *key {
                return *verdict;
            }
        }
        let verdict = judge(key);
        self.slots[slot] = Some((address, key.into(), verdict));
        verdict
    }
}

/// The slot of a direct-mapped table of `slots` that `text` belongs in, by its address.
fn slot_of(text: &str, slots: usize) -> usize {
    let address = text.as_ptr() as usize;
    (address ^ (address >> 9) ^ text.len().wrapping_mul(0x9e37)) % slots
}

/// Values already scanned and found clean, per thread and redactor: span names and
/// many attribute values are the same static strings span after span. Direct-mapped by
/// the text's address, each slot holding the text itself (up to [`CLEAN_TEXT_BYTES`]),
/// so a hit is exact: a reused address with other text is scanned again.
pub(crate) struct CleanValues {
    slots: Vec<(usize, u8, [u8; CLEAN_TEXT_BYTES])>,
}

const CLEAN_TEXT_BYTES: usize = 55;
const CLEAN_SLOTS: usize = 256;

impl Default for CleanValues {
    fn default() -> Self {
        CleanValues {
            slots: vec![(0, 0, [0; CLEAN_TEXT_BYTES]); CLEAN_SLOTS],
        }
    }
}

impl CleanValues {
    fn slot(text: &str) -> usize {
        slot_of(text, CLEAN_SLOTS)
    }

    pub(crate) fn is_clean(&self, text: &str) -> bool {
        let (address, len, bytes) = &self.slots[Self::slot(text)];
        *address == text.as_ptr() as usize
            && usize::from(*len) == text.len()
            && bytes[..text.len()] == *text.as_bytes()
    }

    pub(crate) fn remember(&mut self, text: &str) {
        if text.is_empty() || text.len() > CLEAN_TEXT_BYTES {
            return;
        }
        let slot = &mut self.slots[Self::slot(text)];
        slot.0 = text.as_ptr() as usize;
        slot.1 = text.len() as u8;
        slot.2[..text.len()].copy_from_slice(text.as_bytes());
    }
}

/// What a redactor remembers on one thread.
#[derive(Default)]
pub(crate) struct Memo {
    pub(crate) keys: JudgedKeys,
    pub(crate) clean: CleanValues,
}

#[cfg(test)]
mod tests;
