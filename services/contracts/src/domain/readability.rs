//! Flesch reading ease of English text, in integer arithmetic.
//!
//! Reading ease is `206.835 - 1.015 x (words / sentences) - 84.6 x (syllables / words)`.
//! Higher is easier: 70 and above is plain English (GOV.UK aims at a reading age of 9),
//! below 30 is hard, legal-style text. The workspace forbids float arithmetic, so the score
//! is computed as an exact fraction and returned in thousandths of a point.
//!
//! The counts follow the usual heuristics:
//!
//! - A **word** is a whitespace-separated token with at least one letter or digit, after
//!   surrounding punctuation is stripped. Hyphenated and apostrophe words ("four-weekly",
//!   "O'Neill", "you'll") are one word; a bullet marker ("-", "*", "•") is not a word.
//! - A **sentence** ends at `.`, `!` or `?` followed by a space or the end of a line (so
//!   "210.00" is not split), and at a line break when either line is a list item or a
//!   blank line follows (a bullet line, a heading or a paragraph is a sentence even without
//!   a full stop). A sentence counts only if it has a word in it.
//! - **Syllables** of a word of letters: groups of vowels (a, e, i, o, u, and y when not
//!   the first letter), less a silent final "e", "-es" or "-ed", but a consonant plus
//!   "-le" ("table", "people") keeps its syllable; at least one per word.
//! - **Numbers** such as "210.00", "£1,250.00" or the "1" and "2027" of "1 April 2027"
//!   count one syllable per group of digits. Read aloud they are longer, but a reader
//!   takes in a figure at a glance, and counting them as long words would mark down the
//!   amounts and dates a summary must give.

/// The counts that reading ease is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TextStats {
    pub words: u64,
    pub sentences: u64,
    pub syllables: u64,
}

impl TextStats {
    /// Counts the words, sentences and syllables of `text`.
    pub fn of(text: &str) -> TextStats {
        let mut stats = TextStats::default();
        for sentence in sentences(text) {
            let mut words_here = 0;
            for word in words(sentence) {
                words_here += 1;
                stats.syllables += syllables(word);
            }
            if words_here > 0 {
                stats.words += words_here;
                stats.sentences += 1;
            }
        }
        stats
    }

    /// Flesch reading ease in thousandths of a point (`71_234` is 71.234), rounded half away
    /// from zero; `None` for a text without words.
    pub fn reading_ease_milli(&self) -> Option<i64> {
        if self.words == 0 || self.sentences == 0 {
            return None;
        }
        let words = i128::from(self.words);
        let sentences = i128::from(self.sentences);
        let syllables = i128::from(self.syllables);
        // 206.835 - 1.015 w/s - 84.6 y/w, in thousandths, over the common denominator s*w.
        let denominator = sentences * words;
        let numerator =
            206_835 * denominator - 1_015 * words * words - 84_600 * syllables * sentences;
        i64::try_from(divide_rounded(numerator, denominator)).ok()
    }
}

/// Flesch reading ease of `text` in thousandths of a point; `None` when it has no words.
pub fn reading_ease_milli(text: &str) -> Option<i64> {
    TextStats::of(text).reading_ease_milli()
}

/// Flesch reading ease of `text` in whole points, rounded half away from zero; `None` when
/// it has no words.
pub fn reading_ease(text: &str) -> Option<i64> {
    reading_ease_milli(text).map(|milli| divide_rounded(i128::from(milli), 1_000) as i64)
}

/// The number of words in `text`, counted as reading ease counts them.
pub fn word_count(text: &str) -> usize {
    words(text).count()
}

/// `numerator / denominator` rounded half away from zero; `denominator` is positive.
fn divide_rounded(numerator: i128, denominator: i128) -> i128 {
    let half = denominator / 2;
    if numerator >= 0 {
        (numerator + half) / denominator
    } else {
        (numerator - half) / denominator
    }
}

/// The words of `text`, stripped of surrounding punctuation.
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split_whitespace()
        .map(|token| token.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|word| !word.is_empty())
}

/// The sentences of `text`, in order; some may hold no words (a bare bullet, "...").
pub fn sentences(text: &str) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut start: Option<usize> = None;
    let base = text.as_ptr() as usize;
    for (index, line) in lines.iter().enumerate() {
        let line_start = line.as_ptr() as usize - base;
        let mut piece_start = line_start;
        if let Some(open) = start.filter(|_| is_list_item(line)) {
            // A list item starts a new sentence: close what the previous line left open.
            found.push(text[open..line_start].trim());
            start = None;
        }
        let mut chars = line.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            let at_end = chars.peek().is_none_or(|(_, next)| next.is_whitespace());
            if matches!(c, '.' | '!' | '?') && at_end {
                let sentence_start = start.take().unwrap_or(piece_start);
                let end = line_start + offset + c.len_utf8();
                found.push(text[sentence_start..end].trim());
                piece_start = end;
            }
        }
        let rest = &text[piece_start..line_start + line.len()];
        if !rest.trim().is_empty() && start.is_none() {
            start = Some(piece_start);
        }
        let next_breaks = lines
            .get(index + 1)
            .is_none_or(|next| next.trim().is_empty() || is_list_item(next));
        if let Some(open) = start.filter(|_| next_breaks || is_list_item(line)) {
            found.push(text[open..line_start + line.len()].trim());
            start = None;
        }
    }
    found
}

/// Whether `line` is an item of a bulleted or numbered list.
fn is_list_item(line: &str) -> bool {
    let trimmed = line.trim_start();
    let bullet = ["- ", "* ", "• ", "– "]
        .iter()
        .any(|marker| trimmed.starts_with(marker));
    let digits = trimmed.len()
        - trimmed
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .len();
    let numbered = digits > 0 && {
        let after = &trimmed[digits..];
        after.starts_with(". ") || after.starts_with(") ")
    };
    bullet || numbered
}

/// The estimated number of syllables in `word` (see the module notes); at least one.
pub fn syllables(word: &str) -> u64 {
    if word.chars().any(|c| c.is_ascii_digit()) {
        return digit_groups(word).max(1);
    }
    let letters: Vec<char> = word
        .chars()
        .filter(|c| c.is_alphabetic())
        .flat_map(char::to_lowercase)
        .collect();
    if letters.is_empty() {
        return 1;
    }
    let is_vowel = |index: usize| -> bool {
        match letters[index] {
            'a' | 'e' | 'i' | 'o' | 'u' | 'é' => true,
            'y' => index > 0,
            _ => false,
        }
    };
    let mut groups: u64 = 0;
    for index in 0..letters.len() {
        if is_vowel(index) && (index == 0 || !is_vowel(index - 1)) {
            groups += 1;
        }
    }
    let len = letters.len();
    let consonant_at = |index: usize| index < len && !is_vowel(index);
    let ends_with = |suffix: &str| {
        let suffix: Vec<char> = suffix.chars().collect();
        len > suffix.len() && letters[len - suffix.len()..] == suffix[..]
    };
    // The "e" of the ending is silent only when it is a vowel group of its own.
    let silent = if ends_with("le") && len >= 3 && consonant_at(len - 3) {
        false
    } else if ends_with("e") {
        len >= 2 && consonant_at(len - 2)
    } else if ends_with("es") {
        let before = &letters[..len - 2];
        let voiced = matches!(before.last(), Some('s' | 'x' | 'z' | 'c' | 'g'))
            || before.ends_with(&['c', 'h'])
            || before.ends_with(&['s', 'h'])
            || (before.ends_with(&['l']) && len >= 4 && consonant_at(len - 4));
        !voiced && consonant_at(len - 3)
    } else if ends_with("ed") {
        let voiced = matches!(letters[len - 3], 't' | 'd');
        !voiced && consonant_at(len - 3)
    } else {
        false
    };
    if silent && groups > 1 {
        groups -= 1;
    }
    groups.max(1)
}

/// The number of runs of digits in `word`: "210.00" has two, "2027" one.
fn digit_groups(word: &str) -> u64 {
    let mut groups = 0;
    let mut in_digits = false;
    for c in word.chars() {
        let digit = c.is_ascii_digit();
        if digit && !in_digits {
            groups += 1;
        }
        in_digits = digit;
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syllables_of_common_words() {
        let cases = [
            ("the", 1),
            ("cat", 1),
            ("care", 1),
            ("table", 2),
            ("people", 2),
            ("agreement", 3),
            ("authority", 4),
            ("money", 2),
            ("every", 3),
            ("you", 1),
            ("paid", 1),
            ("ended", 2),
            ("changes", 2),
            ("makes", 1),
            ("tables", 2),
            ("O'Neill", 2),
            ("a", 1),
            ("rhythm", 1),
        ];
        for (word, expected) in cases {
            assert_eq!(syllables(word), expected, "{word}");
        }
    }

    #[test]
    fn numbers_count_one_syllable_per_digit_group() {
        assert_eq!(syllables("210.00"), 2);
        assert_eq!(syllables("£1,250.00"), 3);
        assert_eq!(syllables("2027"), 1);
        assert_eq!(syllables("1"), 1);
        assert_eq!(syllables("10%"), 1);
    }

    #[test]
    fn words_skip_bullets_and_strip_punctuation() {
        let found: Vec<&str> = words("- You get £210.00 a week, from 1 April 2027.").collect();
        assert_eq!(
            found,
            [
                "You", "get", "210.00", "a", "week", "from", "1", "April", "2027"
            ]
        );
        assert_eq!(word_count("four-weekly O'Neill ... -"), 2);
    }

    #[test]
    fn sentences_split_on_stops_bullets_and_paragraphs() {
        let text = "Your support\n\nYou get care. It costs £210.00 a week! Is that right?\n- First item\n- Second item.\nA wrapped\nline ends here.";
        assert_eq!(
            sentences(text),
            [
                "Your support",
                "You get care.",
                "It costs £210.00 a week!",
                "Is that right?",
                "- First item",
                "- Second item.",
                "A wrapped\nline ends here.",
            ]
        );
    }

    #[test]
    fn known_sentence_counts_and_score() {
        // 6 words, 6 syllables, 1 sentence: 206.835 - 6.09 - 84.6 = 116.145.
        let stats = TextStats::of("The cat sat on the mat.");
        assert_eq!(
            stats,
            TextStats {
                words: 6,
                sentences: 1,
                syllables: 6
            }
        );
        assert_eq!(stats.reading_ease_milli(), Some(116_145));
        // 2 sentences, 9 words, 11 syllables: Mo-rag and mon-ey have two, "walked" one.
        let stats = TextStats::of("We walked to the shop. Morag paid the money.");
        assert_eq!(
            stats,
            TextStats {
                words: 9,
                sentences: 2,
                syllables: 11
            }
        );
        // 206.835 - 1.015 x 4.5 - 84.6 x 11/9 = 98.8675, rounded half away from zero.
        assert_eq!(stats.reading_ease_milli(), Some(98_868));
        assert_eq!(
            reading_ease("We walked to the shop. Morag paid the money."),
            Some(99)
        );
    }

    #[test]
    fn plain_sentence_scores_high() {
        let score = reading_ease("You can ask us to change your care at any time.");
        assert!(score.is_some_and(|score| score > 80), "{score:?}");
    }

    #[test]
    fn officialese_scores_low() {
        let text = "The commissioning authority shall indemnify the aforementioned \
                    organisation against consequential liabilities notwithstanding any \
                    provision to the contrary.";
        let score = reading_ease(text);
        assert!(score.is_some_and(|score| score < 30), "{score:?}");
    }

    #[test]
    fn empty_text_has_no_score() {
        assert_eq!(reading_ease(""), None);
        assert_eq!(reading_ease(" - \n ... "), None);
    }
}
