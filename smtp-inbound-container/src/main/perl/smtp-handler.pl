# The mail app's internet-facing MX, as a handler for hearth-sandbox-host: every SMTP connection is
# served by a process forked for it alone, in a sandbox of its own (docs/sandbox.md), gone after it.
# It keeps no queue: each transaction is mirrored live onto an LMTP session with the mail store,
# opened before the sandbox is entered (the sandbox's one path out); every recipient gets the
# store's own verdict, and DATA gets 250 only once the store has answered 250 for every recipient,
# meaning the message is on disk. Anything else downstream is 451, so the sender keeps it and retries.
#
# ESMTP with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and STARTTLS. Only <CRLF>.<CRLF> ends
# DATA; a bare CR or LF inside it becomes CRLF (SMTP smuggling; smtp-inbound-container/README.md).
# Settings (the manifest's environment): MAIL_HOSTNAME, MAIL_STORE_LMTP (host:port), MAX_MESSAGE_BYTES,
# STORE_TIMEOUT_SECONDS (120), SMTP_GREET_PAUSE_MS (500), SMTP_IDLE_SECONDS (300) and
# SMTP_SCARCE_IDLE_SECONDS (10, while sandboxes are scarce, as Postfix under stress), and
# HEARTH_PROXY_PROTOCOL_PORTS (set by the supervisor).
use strict;
use warnings;
use Encode ();
use IO::Select;
use IO::Socket::INET;
use IO::Socket::SSL;
use IO::Socket::SSL::Utils qw(CERT_create KEY_create_rsa);
use POSIX qw(strftime);
use Time::HiRes qw(time);
use Hearth::Sandbox;
use Hearth::ServerTls;

use constant {
    MAX_COMMAND_LINE => 2048,          # RFC 5321 asks for 512; Postfix takes 2048
    MAX_RECIPIENTS   => 100,           # the least RFC 5321 lets a server take
    MAX_ERRORS       => 20,            # then the session ends, as Postfix's hard error limit does
    STREAM_AFTER     => 1024 * 1024,   # a message larger than this goes to the store while it arrives
    LONG_LINE        => 64 * 1024,     # a DATA line longer than this is passed on in pieces
};

my %setting;
my ($certificate, $key);

sub setting {
    my ($name, $default) = @_;
    my $value = $ENV{$name};
    return defined $value && length $value ? $value : $default;
}

sub whole {
    my ($name, $default) = @_;
    my $value = setting($name, $default);
    $value =~ /^[0-9]+$/ or die "$name must be a whole number, not \"$value\"\n";
    return $value + 0;
}

# --- the client connection ----------------------------------------------------------------------

my ($client, $in, $tls);    # the socket, bytes read but not yet used, whether TLS is on

# The client's socket is non-blocking: every wait on it is bounded by the idle time, also inside TLS.
sub send_reply {
    my ($text) = @_;
    my $bytes = "$text\r\n";
    my $deadline = time() + idle_seconds();
    while (length $bytes) {
        my $n = syswrite($client, $bytes);
        if ($n) {
            substr($bytes, 0, $n, '');
            next;
        }
        die "client gone\n" unless !defined $n && ($!{EAGAIN} || $!{EINTR} || $tls && $SSL_ERROR == SSL_WANT_WRITE);
        my $left = $deadline - time();
        die "client stopped reading\n" if $left <= 0;
        IO::Select->new($client)->can_write($left);
    }
    return 1;
}

sub idle_seconds { Hearth::Sandbox::scarce() ? $setting{scarce_idle} : $setting{idle} }

# Reads more of the client into $in; false at its end. A client silent longer than the idle time
# (which shrinks while sandboxes are scarce) is told so and dropped.
sub fill {
    my $since = time();
    while (1) {
        if (!($tls && $client->pending)) {
            my $left = $since + idle_seconds() - time();
            if ($left <= 0) {
                send_reply('421 4.4.2 ' . $setting{hostname} . ' Idle too long, closing connection');
                return 0;
            }
            # A pressure signal interrupts the wait; the loop then waits again with the new idle time.
            next unless IO::Select->new($client)->can_read($left);
        }
        my $n = sysread($client, $in, 64 * 1024, length $in);
        return $n if $n;
        return 0 if defined $n || !($!{EAGAIN} || $!{EINTR} || $tls && $SSL_ERROR == SSL_WANT_READ);
        # Half a TLS record, or a signal: wait for more within the same idle time.
        next if $tls && $client->pending;
        my $left = $since + idle_seconds() - time();
        IO::Select->new($client)->can_read($left) if $left > 0;
    }
}

# The next command line without its line end (a bare LF ends one too, as in James and Postfix).
sub command_line {
    while (1) {
        my $end = index($in, "\n");
        if ($end >= 0 && $end <= MAX_COMMAND_LINE) {
            my $line = substr($in, 0, $end + 1, '');
            $line =~ s/\r?\n\z//;
            return $line;
        }
        if ($end > MAX_COMMAND_LINE || length($in) > MAX_COMMAND_LINE) {
            send_reply('500 5.5.2 Line too long');
            return undef;
        }
        fill() or return undef;
    }
}

# --- the store ------------------------------------------------------------------------------------

my ($store, $store_in);     # the LMTP socket opened outside the sandbox, its unread bytes
my $store_in_data = 0;      # an LMTP DATA has begun and not ended

sub store_lost {
    close($store) if $store;
    undef $store;
    $store_in_data = 0;
}

sub store_send {
    my ($bytes) = @_;
    while (length $bytes) {
        my $n = syswrite($store, $bytes);
        die "store: write failed: $!\n" unless $n;
        substr($bytes, 0, $n, '');
    }
}

# One whole LMTP reply: [code, text of its last line].
sub store_reply {
    my $deadline = time() + $setting{store_timeout};
    my $text = '';
    while (1) {
        my $end = index($store_in, "\n");
        if ($end >= 0) {
            my $line = substr($store_in, 0, $end + 1, '');
            $line =~ s/\r?\n\z//;
            $line =~ /^([2-5][0-9][0-9])([- ]?)(.*)\z/ or die "store: not a reply: $line\n";
            return [$1 + 0, $3] if $2 ne '-';
            next;
        }
        my $left = $deadline - time();
        die "store: no reply in $setting{store_timeout} s\n" if $left <= 0;
        next unless IO::Select->new($store)->can_read($left);
        my $n = sysread($store, $store_in, 64 * 1024, length $store_in);
        die "store: closed the connection\n" if defined $n && $n == 0;
        die "store: read failed: $!\n" if !defined $n && !$!{EINTR};
    }
}

sub store_command {
    my ($line) = @_;
    store_send("$line\r\n");
    return store_reply();
}

my $store_greeted = 0;

sub store_ready {
    die "store: unreachable\n" unless $store;
    return if $store_greeted;
    my $greeting = store_reply();
    die "store: greeting $greeting->[0]\n" unless $greeting->[0] == 220;
    my $lhlo = store_command("LHLO $setting{hostname}");
    die "store: LHLO $lhlo->[0]\n" unless $lhlo->[0] == 250;
    $store_greeted = 1;
}

# --- the session ----------------------------------------------------------------------------------

my %peer;    # the client, as the PROXY header or the socket names it
my ($helo, $esmtp, $errors) = (undef, 0, 0);
my ($sender, @recipients, $store_mail_sent, $smtputf8);

sub reset_transaction {
    undef $sender;
    $smtputf8 = 0;
    @recipients = ();
    $store_mail_sent = 0;
}

sub error_reply {
    my ($text) = @_;
    send_reply($text);
    if (++$errors >= MAX_ERRORS) {
        send_reply("421 4.7.0 $setting{hostname} Too many errors, closing connection");
        return 0;
    }
    return 1;
}

sub tempfail_store {
    my ($step, $error) = @_;
    print STDERR "role=smtp-in event=store-unreachable step=$step error=" . ($error =~ s/\s+/ /gr) . "\n";
    store_lost();
    return '451 4.3.0 Mail store unavailable, try again later';
}

# A PROXY protocol v2 header from the edge listener names the real client (HAProxy's binary form).
sub read_proxy_header {
    my $signature = "\r\n\r\n\0\r\nQUIT\n";
    while (length($in) < 16) {
        fill() or return 0;
    }
    substr($in, 0, 12) eq $signature or return 0;
    my ($command, $family, $length) = unpack('C C n', substr($in, 12, 4));
    # Version 2; LOCAL (0) or PROXY (1); no more than the largest address block with room for TLVs.
    ($command & 0xF0) == 0x20 && ($command & 0x0F) <= 1 && $length <= 512 or return 0;
    while (length($in) < 16 + $length) {
        fill() or return 0;
    }
    my $addresses = substr($in, 16, $length);
    substr($in, 0, 16 + $length, '');
    return 1 if ($command & 0x0F) == 0;    # LOCAL: the listener's own connection, the socket's peer stands
    if ($family == 0x11) {
        return 0 if $length < 12;
        $peer{address} = join('.', unpack('C4', $addresses));
    } elsif ($family == 0x21) {
        return 0 if $length < 36;
        my @words = unpack('n8', $addresses);
        # An IPv4-mapped address is the IPv4 client; any other is an IPv6 one (RFC 5321's IPv6: form).
        $peer{address} = join(',', @words[0 .. 5]) eq '0,0,0,0,0,65535'
            ? join('.', unpack('C4', substr($addresses, 12, 4)))
            : 'IPv6:' . join(':', map { sprintf('%x', $_) } @words);
    } else {
        return 0;
    }
    return 1;
}

# Postscreen's pre-greet test: the first banner line goes out at once, the last after a pause. A
# real MTA waits for the whole greeting; spamware that talks first is dropped unheard. A client that
# waited once is greeted at once for a day after (postscreen_greet_ttl): a sending server's next
# connections do not pay the pause again.
my %passed;    # client address => when it last passed, kept by the host (noted) for later sandboxes
my @passed_order;    # the same addresses, first noted first: the first to go when it is full
use constant { PASSED_FOR => 86400, PASSED_MAX => 10000 };

sub greet {
    my ($note) = @_;
    my $banner = "$setting{hostname} ESMTP Hearth";
    if ($setting{greet_pause} > 0 && ($passed{$peer{address}} // 0) < time() - PASSED_FOR) {
        send_reply("220-$banner");
        # A pressure signal may cut a wait short: wait out the whole pause.
        my $deadline = time() + $setting{greet_pause} / 1000;
        my $left;
        while (!length($in) && ($left = $deadline - time()) > 0) {
            last if IO::Select->new($client)->can_read($left);
        }
        if (length($in) || IO::Select->new($client)->can_read(0)) {
            send_reply('554 5.5.1 Protocol error: talked before the greeting');
            print STDERR "role=smtp-in event=pregreet client=$peer{address}\n";
            return 0;
        }
        $note->("pregreet-passed $peer{address}") if $note;
    }
    send_reply("220 $banner");
    return 1;
}

sub address_argument {
    my ($keyword, $argument) = @_;
    $argument =~ /^\Q$keyword\E:\s*<([^<>\s]*)>((?:\s+[A-Za-z0-9][A-Za-z0-9-]*(?:=[\x21-\x3c\x3e-\x7e]+)?)*)\s*\z/i or return;
    my ($address, $parameters) = ($1, $2);
    return if length($address) > 256 || $address =~ /[\x00-\x20\x7f]/;
    # A source route (<@a,@b:user@c>) is accepted and ignored, as RFC 5321 asks.
    $address =~ s/^@[^:]+://;
    return ($address, { map { my ($k, $v) = split(/=/, $_, 2); (uc($k) => $v // '') } split(' ', $parameters) });
}

# RFC 6531: a non-ASCII address only in a transaction that declared SMTPUTF8, and only as UTF-8. The
# store judges the address itself; the bytes are passed on as they came.
sub non_ascii_refusal {
    my ($address, $declared, $which, $status) = @_;
    return undef unless $address =~ /[\x80-\xff]/;
    return "553 5.6.7 A non-ASCII $which address needs SMTPUTF8 declared in MAIL (RFC 6531)" unless $declared;
    # Strict UTF-8 (Encode's "UTF-8", not Perl's lax utf8): no surrogates, nothing past U+10FFFF, no long forms.
    my $valid = eval { Encode::decode('UTF-8', my $copy = $address, Encode::FB_CROAK); 1 };
    return "553 $status Bad $which address: it is not valid UTF-8" unless $valid;
    return undef;
}

sub on_ehlo {
    my ($verb, $argument) = @_;
    return error_reply('501 5.5.4 Syntax: ' . $verb . ' hostname') unless $argument =~ /^[\x21-\x7e]{1,255}\z/;
    $helo = $argument;
    $esmtp = $verb eq 'EHLO';
    reset_transaction();
    return send_reply("250 $setting{hostname}") unless $esmtp;
    my @extensions = ('PIPELINING', "SIZE $setting{max_bytes}", '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES');
    push(@extensions, 'STARTTLS') unless $tls;
    send_reply("250-$setting{hostname}");
    send_reply("250-$_") for @extensions[0 .. $#extensions - 1];
    send_reply("250 $extensions[-1]");
    return 1;
}

sub on_mail {
    my ($argument) = @_;
    return error_reply('503 5.5.1 Send HELO or EHLO first') unless defined $helo;
    return error_reply('503 5.5.1 Nested MAIL command') if defined $sender;
    my ($address, $parameters) = address_argument('FROM', $argument);
    return error_reply('501 5.5.4 Syntax: MAIL FROM:<address>') unless defined $address;
    my $size = $parameters->{SIZE};
    if (defined $size) {
        return error_reply('501 5.5.4 SIZE takes a number') unless $size =~ /^[0-9]{1,20}\z/;
        return send_reply('552 5.3.4 Message size exceeds the limit of ' . $setting{max_bytes} . ' bytes')
            if $size > $setting{max_bytes};
    }
    my $body = uc($parameters->{BODY} // '7BIT');
    return error_reply('501 5.5.4 BODY must be 7BIT or 8BITMIME') unless $body eq '7BIT' || $body eq '8BITMIME';
    my ($unknown) = grep { $_ ne 'SIZE' && $_ ne 'BODY' && $_ ne 'SMTPUTF8' } sort keys %$parameters;
    return error_reply("555 5.5.4 MAIL parameter $unknown not supported") if defined $unknown;
    my $declared = exists $parameters->{SMTPUTF8};
    return error_reply('501 5.5.4 SMTPUTF8 takes no value') if $declared && length $parameters->{SMTPUTF8};
    my $refused = non_ascii_refusal($address, $declared, 'sender', '5.1.7');
    return error_reply($refused) if $refused;
    $sender = $address;
    $smtputf8 = $declared;
    return send_reply('250 2.1.0 Sender OK');
}

sub on_rcpt {
    my ($argument) = @_;
    return error_reply('503 5.5.1 Need MAIL before RCPT') unless defined $sender;
    my ($address, $parameters) = address_argument('TO', $argument);
    return error_reply('501 5.5.4 Syntax: RCPT TO:<address>') unless defined $address && length $address;
    my ($unknown) = sort keys %$parameters;
    return error_reply("555 5.5.4 RCPT parameter $unknown not supported") if defined $unknown;
    my $refused = non_ascii_refusal($address, $smtputf8, 'recipient', '5.1.3');
    return error_reply($refused) if $refused;
    return send_reply('452 4.5.3 Too many recipients') if @recipients >= MAX_RECIPIENTS;
    my $reply = eval {
        store_ready();
        if (!$store_mail_sent) {
            store_command('RSET');
            my $mail = store_command("MAIL FROM:<$sender>" . ($smtputf8 ? ' SMTPUTF8' : ''));
            return "$mail->[0] $mail->[1]" unless $mail->[0] == 250;
            $store_mail_sent = 1;
        }
        my $rcpt = store_command("RCPT TO:<$address>");
        push(@recipients, $address) if $rcpt->[0] == 250;
        "$rcpt->[0] $rcpt->[1]";
    } // tempfail_store('rcpt', $@);
    # The store decides every recipient; its reply is the client's. A refusal counts as an error, so
    # one session cannot try addresses without end.
    return $reply =~ /^5/ ? error_reply($reply) : send_reply($reply);
}

# The Received field this server adds on top of each message.
sub received {
    my $for = @recipients == 1 ? "\r\n\tfor <$recipients[0]>" : '';
    my $id = sprintf('%08x%08x', int(rand(2**32)), int(rand(2**32)));
    return "Received: from $helo ([$peer{address}])\r\n\tby $setting{hostname} (Hearth) with "
        . ($esmtp ? ($smtputf8 ? 'UTF8SMTP' : 'ESMTP') . ($tls ? 'S' : '') : 'SMTP') . " id $id$for;\r\n\t"
        . strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime) . "\r\n";
}

# A line's text as LMTP needs it. The client's stuffing dot comes off (only a line between two CRLFs
# was surely stuffed: next to a bare line end, a single leading dot is kept as text), and every
# leading dot is stuffed again for the store.
sub dot_safe {
    my ($text, $clean) = @_;
    $text =~ s/^\.// if $clean ? $text =~ /^\./ : $text =~ /^\.\./;
    return $text =~ /^\./ ? ".$text" : $text;
}

# Reads the message up to <CRLF>.<CRLF>, passing it on to the store as LMTP text: every line ends in
# CRLF and every leading dot is stuffed. Small messages are kept whole before the store sees them (an
# oversize one then leaves the store's session usable); larger ones go to the store as they arrive.
# False if the session is over.
sub on_data {
    return error_reply('503 5.5.1 Need MAIL and RCPT before DATA') unless defined $sender;
    return error_reply('554 5.5.1 No valid recipients') unless @recipients;
    my $reply = message() // return 0;
    return send_reply($reply);
}

# The message's text up to the end of DATA, passed on; the reply for it, or undef if the client left.
sub message {
    send_reply('354 End data with <CR><LF>.<CR><LF>');
    my $out = received();
    # The store counts our Received field in its own size limit; so does this one.
    my ($size, $streaming, $oversize, $store_error) = (length($out), 0, 0, undef);
    my ($after_crlf, $mid_line) = (1, 0);    # the last line end was a CRLF; a long line is being passed on
    my $pass = sub {
        my ($text) = @_;
        $size += length $text;
        if ($size > $setting{max_bytes}) {
            $oversize = 1;
            $out = '';
            return;
        }
        $out .= $text;
        return if length($out) < STREAM_AFTER;
        # After a store error the rest is read and dropped: the answer is 451 whatever follows.
        $store_error or eval {
            if (!$streaming) {
                my $data = store_command('DATA');
                die "DATA $data->[0] $data->[1]\n" unless $data->[0] == 354;
                ($streaming, $store_in_data) = (1, 1);
            }
            store_send($out);
            1;
        } or $store_error = $@;
        $out = '';
    };
    LINE: while (1) {
        # A line ends at CRLF, a bare LF, or a bare CR (one at the very end may be half of a CRLF).
        while ($in =~ /\G([^\r\n]*)(\r\n|\n|\r(?=[^\n]))/gc) {
            my ($text, $end) = ($1, $2);
            # Only a lone dot between two CRLFs ends DATA; next to a bare line end, a line is text. A line
            # too long to wait for is judged by its start alone, as its pieces are (below), however it arrives.
            my $clean = $after_crlf && !$mid_line && ($end eq "\r\n" || length($text) > LONG_LINE);
            if ($clean && $text eq '.') {
                substr($in, 0, pos($in), '');
                last LINE;
            }
            $text = dot_safe($text, $clean) unless $mid_line;
            $pass->("$text\r\n");
            ($after_crlf, $mid_line) = ($end eq "\r\n", 0);
        }
        my $rest = substr($in, pos($in) // 0);
        $in = $rest;
        if (length($in) > LONG_LINE && $in !~ /\r\z/) {
            # A line far longer than SMTP allows goes on in pieces; only its start is checked for dots.
            my $piece = $mid_line ? $in : dot_safe($in, $after_crlf);
            $pass->($piece);
            ($in, $mid_line, $after_crlf) = ('', 1, 0);
        }
        fill() or return undef;
    }
    my @transaction = @recipients;
    reset_transaction();
    if ($oversize) {
        # The store's transaction ends without a message: reset if it never began DATA, else dropped
        # (an unfinished LMTP DATA is never stored) and later transactions here are turned away for now.
        if ($streaming) {
            store_lost();
        } else {
            eval { store_command('RSET'); 1 } or store_lost();
        }
        return "552 5.3.4 Message size exceeds the limit of $setting{max_bytes} bytes";
    }
    my @replies = eval {
        die $store_error if $store_error;
        if (!$streaming) {
            my $data = store_command('DATA');
            die "DATA $data->[0] $data->[1]\n" unless $data->[0] == 354;
        }
        $store_in_data = 1;
        store_send($out);
        store_send(".\r\n");
        $store_in_data = 0;
        map { store_reply() } @transaction;
    };
    return tempfail_store('data', $@) unless @replies;
    if (!grep { $_->[0] != 250 } @replies) {
        print STDERR "role=smtp-in event=accepted recipients=" . scalar(@replies) . " bytes=$size\n";
        return '250 2.0.0 Stored';
    }
    # Any failure for now: the sender retries all (a copy already stored for one recipient may arrive
    # twice, never be lost). All refused for good, or some stored and the rest refused: the store's
    # own reason, and the sender bounces it.
    my ($later) = grep { $_->[0] >= 400 && $_->[0] < 500 } @replies;
    return "$later->[0] $later->[1]" if $later;
    my ($refused) = grep { $_->[0] >= 500 } @replies;
    return "$refused->[0] $refused->[1]";
}

# The box's certificate for this host when the supervisor hands one over (the manifest's
# certificate:, renewed in place: read at each STARTTLS, so a renewal needs no restart), else the
# host's self-signed one. A pair caught half replaced does not load; the self-signed one serves then.
sub on_starttls {
    return error_reply('503 5.5.1 TLS already active') if $tls;
    # Anything sent behind STARTTLS would be read as if it came encrypted (CVE-2011-0411's kind).
    if (length $in || IO::Select->new($client)->can_read(0)) {
        send_reply('554 5.5.1 Commands pipelined behind STARTTLS, closing connection');
        return 0;
    }
    my $context = Hearth::ServerTls::context(role => 'smtp-in', certificate => $certificate, key => $key);
    send_reply('220 2.0.0 Ready to start TLS');
    $client->blocking(1);
    IO::Socket::SSL->start_SSL($client, SSL_server => 1, SSL_reuse_ctx => $context, Timeout => idle_seconds())
        or die "TLS handshake failed: $SSL_ERROR\n";
    $client->blocking(0);
    $tls = 1;
    # RFC 3207: everything known before TLS is forgotten; the client says EHLO again.
    ($helo, $esmtp) = (undef, 0);
    reset_transaction();
    return 1;
}

sub session {
    while (defined(my $line = command_line())) {
        my ($verb, $argument) = $line =~ /^([A-Za-z]+)(?:[ \t]+(.*?))?[ \t]*\z/;
        $verb = uc($verb // '');
        $argument //= '';
        my $go_on;
        if ($verb eq 'EHLO' || $verb eq 'HELO') {
            $go_on = on_ehlo($verb, $argument);
        } elsif ($verb eq 'MAIL') {
            $go_on = on_mail($argument);
        } elsif ($verb eq 'RCPT') {
            $go_on = on_rcpt($argument);
        } elsif ($verb eq 'DATA') {
            $go_on = on_data();
        } elsif ($verb eq 'RSET') {
            reset_transaction();
            $go_on = send_reply('250 2.0.0 OK');
        } elsif ($verb eq 'NOOP') {
            $go_on = send_reply('250 2.0.0 OK');
        } elsif ($verb eq 'QUIT') {
            send_reply("221 2.0.0 $setting{hostname} closing connection");
            return;
        } elsif ($verb eq 'VRFY') {
            $go_on = send_reply('252 2.5.2 Cannot VRFY, but will try delivery');
        } elsif ($verb eq 'STARTTLS' && !length $argument) {
            $go_on = on_starttls();
        } elsif ($verb eq 'HELP') {
            $go_on = send_reply('214 2.0.0 See RFC 5321');
        } else {
            $go_on = error_reply('500 5.5.2 Command unrecognized');
        }
        return unless $go_on;
    }
}

{
    prepare => sub {
        %setting = (
            hostname      => setting('MAIL_HOSTNAME', 'mail.hearth.invalid'),
            store         => setting('MAIL_STORE_LMTP', 'imap:2424'),
            max_bytes     => whole('MAX_MESSAGE_BYTES', 26214400),
            store_timeout => whole('STORE_TIMEOUT_SECONDS', 120),
            greet_pause   => whole('SMTP_GREET_PAUSE_MS', 500),
            idle          => whole('SMTP_IDLE_SECONDS', 300),
            scarce_idle   => whole('SMTP_SCARCE_IDLE_SECONDS', 10),
            proxied       => scalar(grep { $_ eq ($ENV{HEARTH_LISTEN_PORT} // '') }
                                    split(/,/, $ENV{HEARTH_PROXY_PROTOCOL_PORTS} // '')),
        );
        $setting{store} =~ /^[^:\s]+:[0-9]+\z/ or die "MAIL_STORE_LMTP must be host:port, not \"$setting{store}\"\n";
        # A self-signed identity made once per host for opportunistic STARTTLS (senders to an MX
        # do not check it); every sandbox forked later shares it.
        ($certificate, $key) = CERT_create(subject => { commonName => $setting{hostname} },
                                           key => KEY_create_rsa(2048), not_after => time() + 3 * 365 * 86400,
                                           ext => [{ sn => 'subjectAltName', data => "DNS:$setting{hostname}" }]);
    },
    # Still with the container's network: the sandbox's one connection, to the store.
    outside => sub {
        return IO::Socket::INET->new(PeerAddr => $setting{store}, Timeout => 5);
    },
    # In the host: what a sandbox said of its client, one line per connection. A line a sandbox
    # made up can only spare an address the pause; the memory is bounded and forgets first what it
    # learned first.
    noted => sub {
        my ($address) = $_[0] =~ /^pregreet-passed ((?:[0-9]{1,3}\.){3}[0-9]{1,3}|IPv6:[0-9a-f:]{2,39})\z/ or return;
        if (!exists $passed{$address}) {
            push @passed_order, $address;
            delete $passed{ shift @passed_order } while @passed_order > PASSED_MAX;
        }
        $passed{$address} = time();
    },
    serve => sub {
        ($client, $store, my $note) = @_;
        # A client or store gone mid-write is an error to handle, not the end of the sandbox.
        $SIG{PIPE} = 'IGNORE';
        ($in, $store_in) = ('', '');
        binmode($client);
        $client->blocking(0);
        binmode($store) if $store;
        # Without a PROXY header (a direct connection), the peer is the client.
        $peer{address} = $client->peerhost // 'unknown';
        return if $setting{proxied} && !read_proxy_header();
        session() if greet($note);
        eval { store_send("QUIT\r\n") if $store && $store_greeted && !$store_in_data; 1 };
        # Closing with unread bytes from the client would reset the connection, and the client might
        # never read our last reply: say we are done, then let it finish for a moment.
        shutdown($client, 1);
        my $until = time() + 2;
        while ($until > time() && IO::Select->new($client)->can_read($until - time())) {
            last unless sysread($client, my $discard, 64 * 1024);
        }
    },
};
