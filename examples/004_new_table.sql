-- A table created in the same migration is empty and unused: indexing it directly is fine.
BEGIN;
CREATE TABLE invoices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  order_id bigint NOT NULL,
  total numeric(12, 2) NOT NULL
);
CREATE INDEX invoices_order_id_idx ON invoices (order_id);
ALTER TABLE invoices ADD CONSTRAINT invoices_total_positive CHECK (total >= 0);
COMMIT;
