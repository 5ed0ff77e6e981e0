-- Reject negative amounts and link orders to their customer.
ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount >= 0);

ALTER TABLE orders ADD CONSTRAINT orders_customer_fk
  FOREIGN KEY (customer_id) REFERENCES customers (id);

ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;
