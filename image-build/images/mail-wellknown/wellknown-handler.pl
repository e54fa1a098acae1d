# The mail app's public HTTPS documents, as a handler for hearth-sandbox-host: every connection is
# served by a process forked for it alone, in a sandbox of its own (docs/sandbox.md), gone after its
# one answer. It holds no data and reads nothing but its settings and its certificate.
#
#   https://mta-sts.DOMAIN/.well-known/mta-sts.txt     the MTA-STS policy (RFC 8461 §3.2)
#   https://autoconfig.DOMAIN/mail/config-v1.1.xml     Thunderbird's (and K-9's, FairEmail's) autoconfig
#   https://autodiscover.DOMAIN/autodiscover/autodiscover.xml
#                                                      Outlook's (POX) autodiscover, for IMAP and SMTP
#
# Settings (the manifest's environment): BOX_DOMAIN, MAIL_MX_HOST (the MX the policy names),
# OWNER_HOSTNAME (the host mail clients connect to), CLIENT_IMAPS_PORT, CLIENT_SUBMISSION_PORT,
# CLIENT_SUBMISSIONS_PORT, and HEARTH_SECRETS (/run/secrets: the certificate for all three names
# once the box has one; a self-signed one until then, which no careful client accepts). The
# policy's mode is "testing" (what fails is reported, nothing refused); "enforce" needs the policy's
# id in DNS changed with it (outbound's MailDnsRecords).
use strict;
use warnings;
use IO::Select;
use IO::Socket::SSL;
use IO::Socket::SSL::Utils qw(CERT_create KEY_create_rsa);
use Hearth::ServerTls;

use constant {
    MAX_HEAD  => 8192,     # request line and header fields
    MAX_BODY  => 16384,    # an autodiscover request is a few hundred bytes
    WAIT      => 10,       # seconds for the handshake, and again for the request
};

my (%setting, %documents, $certificate, $key);

sub setting {
    my ($name, $default) = @_;
    my $value = $ENV{$name};
    $value = $default unless defined $value && length $value;
    defined $value or die "$name must be set\n";
    return $value;
}

sub port {
    my ($name, $default) = @_;
    my $value = setting($name, $default);
    $value =~ /^[0-9]{1,5}\z/ && $value > 0 && $value < 65536 or die "$name must be a port number, not \"$value\"\n";
    return $value + 0;
}

sub host {
    my ($name) = @_;
    my $value = lc setting($name);
    $value =~ /^(?=.{1,253}\z)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\z/ or die "$name must be a host name, not \"$value\"\n";
    return $value;
}

sub autoconfig {
    my ($domain, $host, $imaps, $submissions, $submission) = @_;
    return <<"XML";
<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="$domain">
    <domain>$domain</domain>
    <displayName>$domain on Hearth</displayName>
    <incomingServer type="imap">
      <hostname>$host</hostname>
      <port>$imaps</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>$host</hostname>
      <port>$submissions</port>
      <socketType>SSL</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
    <outgoingServer type="smtp">
      <hostname>$host</hostname>
      <port>$submission</port>
      <socketType>STARTTLS</socketType>
      <authentication>password-cleartext</authentication>
      <username>%EMAILADDRESS%</username>
    </outgoingServer>
  </emailProvider>
</clientConfig>
XML
}

# Outlook's answer: the address it asked for (an address of this domain, else none) as the login.
sub autodiscover {
    my ($email) = @_;
    my $login = defined $email ? "\n          <LoginName>$email</LoginName>" : '';
    my ($host, $imaps, $submissions) = @setting{qw(owner imaps submissions)};
    return <<"XML";
<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006">
  <Response xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a">
    <Account>
      <AccountType>email</AccountType>
      <Action>settings</Action>
      <Protocol>
        <Type>IMAP</Type>
        <Server>$host</Server>
        <Port>$imaps</Port>
        <SSL>on</SSL>
        <SPA>off</SPA>
        <AuthRequired>on</AuthRequired>$login
      </Protocol>
      <Protocol>
        <Type>SMTP</Type>
        <Server>$host</Server>
        <Port>$submissions</Port>
        <SSL>on</SSL>
        <SPA>off</SPA>
        <AuthRequired>on</AuthRequired>$login
      </Protocol>
    </Account>
  </Response>
</Autodiscover>
XML
}

# Reads from the TLS connection until $done says the bytes so far are whole, within WAIT seconds and $limit bytes.
sub read_until {
    my ($client, $bytes, $limit, $done) = @_;
    my $deadline = time() + WAIT;
    until ($done->($$bytes)) {
        return 0 if length($$bytes) > $limit;
        if (!$client->pending) {
            my $left = $deadline - time();
            return 0 if $left <= 0 || !IO::Select->new($client)->can_read($left);
        }
        my $n = sysread($client, $$bytes, 4096, length $$bytes);
        return 0 unless $n;
    }
    return 1;
}

sub answer {
    my ($client, $status, $type, $body, $head_only) = @_;
    my $head = "HTTP/1.1 $status\r\nContent-Type: $type\r\nContent-Length: " . length($body) . "\r\n"
        . "Cache-Control: max-age=3600\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n";
    print {$client} $head . ($head_only ? '' : $body);
}

return {
    prepare => sub {
        my $domain = host('BOX_DOMAIN');
        %setting = (
            domain      => $domain,
            mx          => host('MAIL_MX_HOST'),
            owner       => host('OWNER_HOSTNAME'),
            imaps       => port('CLIENT_IMAPS_PORT', 993),
            submission  => port('CLIENT_SUBMISSION_PORT', 587),
            submissions => port('CLIENT_SUBMISSIONS_PORT', 465),
        );
        my $xml = autoconfig(@setting{qw(domain owner imaps submissions submission)});
        %documents = (
            "mta-sts.$domain" => {
                '/.well-known/mta-sts.txt' => ['text/plain; charset=utf-8',
                    "version: STSv1\r\nmode: testing\r\nmx: $setting{mx}\r\nmax_age: 604800\r\n"],
            },
            "autoconfig.$domain" => {
                '/mail/config-v1.1.xml' => ['application/xml; charset=utf-8', $xml],
                '/.well-known/autoconfig/mail/config-v1.1.xml' => ['application/xml; charset=utf-8', $xml],
            },
        );
        # Until the box has its certificate: a self-signed one, shared by every sandbox forked later.
        ($certificate, $key) = CERT_create(subject => { commonName => "mta-sts.$domain" },
                                           key => KEY_create_rsa(2048), not_after => time() + 3 * 365 * 86400,
                                           ext => [{ sn => 'subjectAltName', data => "DNS:mta-sts.$domain" }]);
    },
    serve => sub {
        my ($client) = @_;
        $SIG{PIPE} = 'IGNORE';
        binmode($client);
        my $context = Hearth::ServerTls::context(role => 'wellknown', certificate => $certificate, key => $key);
        IO::Socket::SSL->start_SSL($client, SSL_server => 1, SSL_reuse_ctx => $context, Timeout => WAIT)
            or die "TLS handshake failed: $SSL_ERROR\n";
        my $in = '';
        read_until($client, \$in, MAX_HEAD, sub { $_[0] =~ /\r?\n\r?\n/ })
            or return answer($client, '400 Bad Request', 'text/plain', "The request did not come whole.\n");
        my ($head) = $in =~ /\A(.*?\r?\n)\r?\n/s;
        my ($method, $target) = $head =~ m{\A([A-Z]+) (\S+) HTTP/1\.[01]\r?\n}
            or return answer($client, '400 Bad Request', 'text/plain', "Not an HTTP/1.1 request line.\n");
        my ($host) = $head =~ /^Host:[ \t]*([^\s:]+)(?::[0-9]+)?[ \t]*\r?$/mi;
        $host = lc($host // '');
        (my $path = $target) =~ s/\?.*\z//s;
        my $domain = $setting{domain};
        if ($host eq "autodiscover.$domain" && lc($path) eq '/autodiscover/autodiscover.xml' && $method eq 'POST') {
            my ($length) = $head =~ /^Content-Length:[ \t]*([0-9]{1,6})[ \t]*\r?$/mi;
            my $body = $in =~ s/\A.*?\r?\n\r?\n//sr;
            return answer($client, '413 Content Too Large', 'text/plain', "Too large.\n") if ($length // 0) > MAX_BODY;
            read_until($client, \$body, MAX_BODY, sub { length($_[0]) >= ($length // 0) })
                or return answer($client, '400 Bad Request', 'text/plain', "The request did not come whole.\n");
            my ($email) = $body =~ m{<EMailAddress>\s*([A-Za-z0-9._+-]+\@\Q$domain\E)\s*</EMailAddress>}i;
            return answer($client, '200 OK', 'application/xml; charset=utf-8', autodiscover($email));
        }
        return answer($client, '405 Method Not Allowed', 'text/plain', "Only GET here.\n")
            unless $method eq 'GET' || $method eq 'HEAD';
        my $document = $documents{$host} && $documents{$host}{$path};
        return answer($client, '404 Not Found', 'text/plain', "Nothing here.\n", $method eq 'HEAD') unless $document;
        return answer($client, '200 OK', @$document, $method eq 'HEAD');
    },
};
