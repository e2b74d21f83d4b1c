//! HSDS 3.0 paging: which slice of a list a request asks for, and the `Page` object a list
//! answers with (`total_items`, `total_pages`, `page_number`, `size`, `first_page`,
//! `last_page`, `empty`, `contents`), as the HSDS OpenAPI's `components.schemas.Page` names
//! them.

use serde::Serialize;

/// A page asked for: numbered from 1, `per_page` entities each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub page_number: u32,
    pub per_page: u32,
}

impl PageRequest {
    /// How many entities come before this page.
    pub fn offset(self) -> u64 {
        u64::from(self.page_number.saturating_sub(1)) * u64::from(self.per_page)
    }
}

/// One page of a list. A page past the last is answered, empty, rather than refused: a
/// harvester walking pages while the directory shrinks should see the end, not an error.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    pub total_items: u64,
    pub total_pages: u64,
    pub page_number: u32,
    /// The number of entities on this page (HSDS: "the number of entities in the current
    /// page"), not the number asked for.
    pub size: usize,
    pub first_page: bool,
    pub last_page: bool,
    pub empty: bool,
    pub contents: Vec<T>,
}

impl<T> Page<T> {
    pub fn new(request: PageRequest, total_items: u64, contents: Vec<T>) -> Page<T> {
        let total_pages = total_items.div_ceil(u64::from(request.per_page.max(1)));
        Page {
            total_items,
            total_pages,
            page_number: request.page_number,
            size: contents.len(),
            first_page: request.page_number <= 1,
            last_page: u64::from(request.page_number) >= total_pages,
            empty: contents.is_empty(),
            contents,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_count_up_from_one_and_the_last_may_be_short() {
        let request = PageRequest {
            page_number: 3,
            per_page: 2,
        };
        assert_eq!(request.offset(), 4);
        let page = Page::new(request, 5, vec!["e"]);
        assert_eq!((page.total_pages, page.size), (3, 1));
        assert!(!page.first_page && page.last_page && !page.empty);
    }

    #[test]
    fn an_empty_directory_is_one_first_and_last_empty_page() {
        let page: Page<()> = Page::new(
            PageRequest {
                page_number: 1,
                per_page: 50,
            },
            0,
            Vec::new(),
        );
        assert_eq!((page.total_items, page.total_pages, page.size), (0, 0, 0));
        assert!(page.first_page && page.last_page && page.empty);
    }
}
