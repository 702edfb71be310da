-- A sign-up's password is proved with its address (issue 12, account
-- pre-hijacking): the argon2 hash a sign-up chose rides on its verification link
-- and becomes the user's password when that link is opened. Someone who signed
-- up first with another person's address cannot keep a password the owner never
-- chose: the owner's own sign-up sends a link carrying the owner's password.
-- NULL for links that prove the address only (asked for while logged in).
ALTER TABLE email_verifications ADD COLUMN password_hash text
    CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%');
