-- Payments, ninth part: hours. A line agreed as hours a week keeps its hours, so a provider
-- can report delivery in hours, paid at the line's weekly amount per agreed weekly hour; a
-- report line made in hours keeps them beside the amount they were paid at.
ALTER TABLE schedule_line
    ADD COLUMN hours_per_week numeric(6, 2) CHECK (hours_per_week > 0);

ALTER TABLE actual_line
    ADD COLUMN hours numeric(8, 2) CHECK (hours >= 0);
