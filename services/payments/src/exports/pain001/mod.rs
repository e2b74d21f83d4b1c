//! A run's ISO 20022 credit transfer initiation (pain.001.001.03): the XML a bank's
//! bulk-payment upload takes instead of a Bacs file. One message (GrpHdr) holding one
//! payment instruction (PmtInf) that debits the authority's account once, batch-booked
//! like a Bacs contra, with one transaction (CdtTrfTxInf) a payee.
//!
//! UK accounts are named the domestic way: the account as sort code followed by account
//! number (Othr/Id, 14 digits), the bank by the sort code under the clearing system code
//! GBDSC (UK Domestic Sort Code).
//!
//! What must stay true: the document validates against the schema
//! (`services/payments/formats/pain.001.001.03.xsd`, a copy of the design's `shared/formats`); NbOfTxs and CtrlSum, in the group header and in
//! the payment instruction, are the count and sum of the transactions; every text is cut
//! to its element's maximum length, holds only characters UK banks take in pain.001
//! (letters, digits, space and / - ? : ( ) . , ' + &) and is XML-escaped; an element
//! whose text would be empty after cleaning is refused rather than written empty (the
//! schema's texts are at least one character). A run finished again writes the same
//! bytes: the creation time is the run's.

#[cfg(test)]
mod tests;

use std::io;

use super::bacs::text::{checked_total, clean, invalid, originator_account};
use super::bank::{Credit, Originator, RunHeader};

pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03";

/// Max35Text and Max140Text, the schema's text lengths for the elements written here.
const ID_LEN: usize = 35;
const TEXT_LEN: usize = 140;

/// The schema's amounts have at most 18 digits (2 of them decimals here); the sum is
/// bounded well below that so CtrlSum always fits.
const MAX_PENCE: i64 = 999_999_999_999_999;

/// Writes a CstmrCdtTrfInitn document: GrpHdr (MsgId from the run id, CreDtTm from
/// `run.created_at`, NbOfTxs, CtrlSum, InitgPty/Nm), one PmtInf (PmtMtd TRF, BtchBookg,
/// NbOfTxs, CtrlSum, ReqdExctnDt = processing date, Dbtr, DbtrAcct, DbtrAgt) and one
/// CdtTrfTxInf per credit (EndToEndId = the credit's reference, InstdAmt in GBP, CdtrAgt,
/// Cdtr, CdtrAcct, RmtInf/Ustrd).
///
/// Everything is checked before the first byte is written; a refusal is
/// [`io::ErrorKind::InvalidInput`] (no credit, an amount of zero or below, bank details
/// that are not digits of their length, a name or reference left empty by cleaning).
pub fn write_pain001(
    out: &mut impl io::Write,
    originator: &Originator,
    run: &RunHeader,
    credits: &[Credit],
) -> io::Result<()> {
    let (own_sort_code, own_account) = originator_account(originator)?;
    let total = checked_total(credits, MAX_PENCE)?;
    let authority = text("the authority's name", &originator.name, TEXT_LEN)?;
    // The run id without hyphens: 32 characters, within Max35Text, and unique per run.
    // The document is built whole before anything is written, so a credit refused halfway
    // leaves `out` untouched.
    let message_id = run.run_id.simple().to_string();
    let count = credits.len().to_string();

    let mut xml = Xml::default();
    xml.line(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    xml.open_with(&format!(r#"Document xmlns="{NAMESPACE}""#));
    xml.open("CstmrCdtTrfInitn");

    xml.open("GrpHdr");
    xml.leaf("MsgId", &message_id);
    // Seconds, without an offset: the form banks' pain.001 guides give
    // (YYYY-MM-DDThh:mm:ss); the time is the run's start in UTC.
    let created = run.created_at.format("%Y-%m-%dT%H:%M:%S").to_string();
    xml.leaf("CreDtTm", &created);
    xml.leaf("NbOfTxs", &count);
    xml.leaf("CtrlSum", &pounds(total));
    xml.open("InitgPty");
    xml.leaf("Nm", &authority);
    xml.close("InitgPty");
    xml.close("GrpHdr");

    xml.open("PmtInf");
    xml.leaf("PmtInfId", &message_id);
    xml.leaf("PmtMtd", "TRF");
    // One debit of the total on the authority's statement, as the Bacs contra makes.
    xml.leaf("BtchBookg", "true");
    xml.leaf("NbOfTxs", &count);
    xml.leaf("CtrlSum", &pounds(total));
    xml.leaf(
        "ReqdExctnDt",
        &run.credit_date.format("%Y-%m-%d").to_string(),
    );
    xml.open("Dbtr");
    xml.leaf("Nm", &authority);
    xml.close("Dbtr");
    account(&mut xml, "DbtrAcct", own_sort_code, own_account);
    agent(&mut xml, "DbtrAgt", own_sort_code);
    for credit in credits {
        transaction(&mut xml, credit)?;
    }
    xml.close("PmtInf");

    xml.close("CstmrCdtTrfInitn");
    xml.close("Document");
    out.write_all(xml.text.as_bytes())
}

fn transaction(xml: &mut Xml, credit: &Credit) -> io::Result<()> {
    let payee = credit.payee_id;
    let reference = text(
        &format!("payee {payee}: reference"),
        &credit.reference,
        ID_LEN,
    )?;
    let remittance = text(
        &format!("payee {payee}: reference"),
        &credit.reference,
        TEXT_LEN,
    )?;
    let name = text(
        &format!("payee {payee}: account name"),
        &credit.account_name,
        TEXT_LEN,
    )?;
    xml.open("CdtTrfTxInf");
    xml.open("PmtId");
    xml.leaf("EndToEndId", &reference);
    xml.close("PmtId");
    xml.open("Amt");
    xml.leaf_with(
        r#"InstdAmt Ccy="GBP""#,
        "InstdAmt",
        &pounds(credit.amount_pence),
    );
    xml.close("Amt");
    agent(xml, "CdtrAgt", &credit.sort_code);
    xml.open("Cdtr");
    xml.leaf("Nm", &name);
    xml.close("Cdtr");
    account(xml, "CdtrAcct", &credit.sort_code, &credit.account_number);
    xml.open("RmtInf");
    xml.leaf("Ustrd", &remittance);
    xml.close("RmtInf");
    xml.close("CdtTrfTxInf");
    Ok(())
}

/// `<{tag}><Id><Othr><Id>` sort code and account number.
fn account(xml: &mut Xml, tag: &str, sort_code: &str, account_number: &str) {
    xml.open(tag);
    xml.open("Id");
    xml.open("Othr");
    xml.leaf("Id", &format!("{sort_code}{account_number}"));
    xml.close("Othr");
    xml.close("Id");
    xml.close(tag);
}

/// `<{tag}>` the bank, by its sort code in the UK domestic clearing system.
fn agent(xml: &mut Xml, tag: &str, sort_code: &str) {
    xml.open(tag);
    xml.open("FinInstnId");
    xml.open("ClrSysMmbId");
    xml.open("ClrSysId");
    xml.leaf("Cd", "GBDSC");
    xml.close("ClrSysId");
    xml.leaf("MmbId", sort_code);
    xml.close("ClrSysMmbId");
    xml.close("FinInstnId");
    xml.close(tag);
}

/// Pence as pounds with two decimals: 154000 is "1540.00".
fn pounds(pence: i64) -> String {
    format!("{}.{:02}", pence / 100, pence % 100)
}

/// Whether UK banks take the character in a pain.001 text: the SWIFT character set
/// (letters, digits, space and / - ? : ( ) . , ' +) and `&`, which Bacs itself carries and
/// names of care providers often hold ("Smith & Sons").
fn bank_character(c: char) -> bool {
    c.is_ascii_alphanumeric() || " /-?:().,'+&".contains(c)
}

/// `raw` cleaned to the characters banks take, cut to `max` characters; refused when
/// nothing is left, since the schema's texts have at least one character.
fn text(what: &str, raw: &str, max: usize) -> io::Result<String> {
    let mut cleaned = clean(raw, bank_character);
    // ASCII after cleaning, so cutting at a byte is cutting at a character.
    cleaned.truncate(max);
    let kept = cleaned.trim_end().len();
    cleaned.truncate(kept);
    if cleaned.is_empty() {
        return Err(invalid(format!(
            "{what}: no character a bank accepts is left"
        )));
    }
    Ok(cleaned)
}

/// The five characters XML gives a meaning, as entities; after cleaning only `&` and `'`
/// can be left, but escaping all five keeps the document well-formed whatever the
/// cleaning lets through.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The document being written, indented two spaces a level so people can read it.
#[derive(Default)]
struct Xml {
    text: String,
    depth: usize,
}

impl Xml {
    fn line(&mut self, content: &str) {
        for _ in 0..self.depth {
            self.text.push_str("  ");
        }
        self.text.push_str(content);
        self.text.push('\n');
    }

    fn open(&mut self, tag: &str) {
        self.open_with(tag);
    }

    /// `<{open}>`: `open` is the tag with its attributes, if any.
    fn open_with(&mut self, open: &str) {
        self.line(&format!("<{open}>"));
        self.depth += 1;
    }

    fn close(&mut self, tag: &str) {
        self.depth -= 1;
        self.line(&format!("</{tag}>"));
    }

    fn leaf(&mut self, tag: &str, content: &str) {
        self.leaf_with(tag, tag, content);
    }

    /// `<{open}>` escaped content `</{tag}>`: `open` is the tag with its attributes, if any.
    fn leaf_with(&mut self, open: &str, tag: &str, content: &str) {
        self.line(&format!("<{open}>{}</{tag}>", escape(content)));
    }
}
