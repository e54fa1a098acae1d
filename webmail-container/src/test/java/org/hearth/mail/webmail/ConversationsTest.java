package org.hearth.mail.webmail;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ConversationsTest {

    private static Conversations.Ids message(String id, String inReplyTo, String references, String subject) {
        List<String> related = new java.util.ArrayList<>(Conversations.ids(inReplyTo));
        related.addAll(Conversations.ids(references));
        List<String> own = Conversations.ids(id);
        return new Conversations.Ids(own.isEmpty() ? "" : own.get(0), related, subject);
    }

    @Test
    void repliesJoinTheirParentsEvenThroughAMissingMessage() {
        List<List<Integer>> groups = Conversations.group(List.of(
                message("<c@x>", "<b@x>", "<a@x> <b@x>", "Re: Re: plans"),   // 0: answers b
                message("<z@y>", null, null, "other"),                    // 1: unrelated
                message("<b2@x>", "<a@x>", null, "RE: plans"),            // 2: a sibling of b, which is not here
                message("<a@x>", null, null, "Plans")));                  // 3: the first
        assertThat(groups).containsExactly(List.of(0, 2, 3), List.of(1));
    }

    @Test
    void aStrangerNamingTheIdsUnderAnotherSubjectStaysApart() {
        List<List<Integer>> groups = Conversations.group(List.of(
                message("<m@evil>", null, "<a@x>", "Cheap watches"),
                message("<r@x>", "<a@x>", "<a@x>", "Aw: Fwd: Plans"),
                message("<a@x>", null, null, "plans")));
        assertThat(groups).containsExactly(List.of(0), List.of(1, 2));
    }

    @Test
    void anIdCannotNameAMessageOfThePage() {
        // "#0" and "#1" are how messages are told apart inside; as ids a sender writes they join nothing.
        assertThat(Conversations.group(List.of(message("<x@y>", null, null, ""), message("<z@y>", null, null, ""),
                message("<m@evil>", null, "<#0> <#1>", "")))).containsExactly(List.of(0), List.of(1), List.of(2));
    }

    @Test
    void messagesWithoutIdsAreEachTheirOwn() {
        assertThat(Conversations.group(List.of(message(null, null, null, "x"), message("", "", "", "x"))))
                .containsExactly(List.of(0), List.of(1));
        assertThat(Conversations.ids("<a@x> junk <b@y>\r\n\t<c@z>")).containsExactly("a@x", "b@y", "c@z");
        assertThat(Conversations.baseSubject("Re: [2] Fwd:  Hello   there")).isEqualTo("[2] fwd: hello there");
    }
}
