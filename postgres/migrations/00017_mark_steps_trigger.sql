-- Message info's records (mark_steps, 00015) are written by a trigger on the
-- member row that SetMarks updates, instead of by a second part of its
-- statement: the trigger sees the marks before and after the update, so
-- no read of the old marks is needed, and a receipt in a group above the
-- large-group size costs what it did before. SetMarks sets step_minute (the
-- clock minute of the receipt, NULL above the large-group size); other
-- updates of the marks (a send moving the sender's own) leave it out and
-- do not fire the trigger.

-- +goose Up
ALTER TABLE members ADD COLUMN step_minute BIGINT;

-- +goose StatementBegin
CREATE FUNCTION mark_steps_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.delivered_seq > OLD.delivered_seq THEN
		INSERT INTO mark_steps (conversation_id, user_id, kind, minute, seq)
		VALUES (NEW.conversation_id, NEW.user_id, 0, NEW.step_minute, NEW.delivered_seq)
		ON CONFLICT (conversation_id, user_id, kind, minute) DO UPDATE SET seq = greatest(mark_steps.seq, excluded.seq);
	END IF;
	IF NEW.read_seq > OLD.read_seq THEN
		INSERT INTO mark_steps (conversation_id, user_id, kind, minute, seq)
		VALUES (NEW.conversation_id, NEW.user_id, 1, NEW.step_minute, NEW.read_seq)
		ON CONFLICT (conversation_id, user_id, kind, minute) DO UPDATE SET seq = greatest(mark_steps.seq, excluded.seq);
	END IF;
	RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER members_mark_steps AFTER UPDATE OF step_minute ON members
	FOR EACH ROW WHEN (NEW.step_minute IS NOT NULL) EXECUTE FUNCTION mark_steps_record();

-- +goose Down
DROP TRIGGER members_mark_steps ON members;
DROP FUNCTION mark_steps_record();
ALTER TABLE members DROP COLUMN step_minute;
