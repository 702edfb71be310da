-- A sign-up's password is proved with its address (issue 12, account
-- pre-hijacking): the argon2 hash a sign-up chose rides on its verification link
-- and becomes the user's password when that link is opened. Someone who signed
-- up first with another person's address cannot keep a password the owner never
-- chose: the owner's own sign-up sends a link carrying the owner's password.
-- NULL for links that prove the address only (asked for while logged in).
ALTER TABLE email_verifications ADD COLUMN password_hash text
    CHECK (password_hash IS NULL OR password_hash LIKE '$argon2id$%');

-- The browser that signed up (issue 12, login CSRF): SHA-256 of a random value
-- set as a cookie on the sign-up's answer. Opening the link logs in only in that
-- browser; elsewhere it verifies the address and asks to log in, so nobody can
-- log someone else into an account by sending them its link.
ALTER TABLE email_verifications ADD COLUMN browser_hash bytea
    CHECK (browser_hash IS NULL OR length(browser_hash) = 32);
