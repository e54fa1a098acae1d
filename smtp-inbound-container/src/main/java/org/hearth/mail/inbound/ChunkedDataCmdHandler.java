package org.hearth.mail.inbound;

import org.apache.james.core.MailAddress;
import org.apache.james.core.MaybeSender;
import org.apache.james.metrics.api.MetricFactory;
import org.apache.james.protocols.smtp.MailEnvelope;
import org.apache.james.protocols.smtp.core.DataCmdHandler;

import java.util.List;

/** James's DATA command, with each message kept in a {@link ChunkedMailEnvelope} instead of a doubling buffer. */
final class ChunkedDataCmdHandler extends DataCmdHandler {

    /** Room for the Received field and one line on top of the size limit, which drops lines beyond it. */
    private static final long SLACK_BYTES = 64 * 1024;

    private final long maxMessageBytes;

    ChunkedDataCmdHandler(MetricFactory metrics, long maxMessageBytes) {
        super(metrics);
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    protected MailEnvelope createEnvelope(MaybeSender sender, List<MailAddress> recipients) {
        return new ChunkedMailEnvelope(sender, recipients, maxMessageBytes > 0 ? maxMessageBytes + SLACK_BYTES : Long.MAX_VALUE);
    }
}
