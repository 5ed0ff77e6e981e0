-- Make account e-mails unique and index orders by customer.
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);

CREATE INDEX orders_customer_id_idx ON orders (customer_id);
