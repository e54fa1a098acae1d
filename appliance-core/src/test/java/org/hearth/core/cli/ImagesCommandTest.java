package org.hearth.core.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.model.Image;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Lines of hearth images list, from image entries as the engine's /images/json answers them. */
class ImagesCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    @Test
    void aManagedImageWithoutAnInputHashLabelIsListedAsUnknownInsteadOfCrashing() throws Exception {
        Image old = JSON.readValue("""
                {"Id": "sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904", "RepoTags": ["hearth/old-base:latest"],
                 "Size": 73400320, "Labels": {"org.hearth.managed": "true"}}
                """, Image.class);

        assertThat(ImagesCommand.line(old)).isEqualTo("hearth/old-base:latest              70 MB  inputs unknown");
    }

    @Test
    void aLabelledImageShowsTheFirstTwelveDigitsOfItsInputHash() throws Exception {
        Image built = JSON.readValue("""
                {"Id": "sha256:4b825dc642cb6eb9a060e54bf8d69288fbee4904", "RepoTags": ["hearth/java:latest"],
                 "Size": 73400320, "Labels": {"org.hearth.managed": "true",
                 "org.hearth.input-hash": "0123456789abcdef0123"}}
                """, Image.class);

        assertThat(ImagesCommand.line(built)).isEqualTo("hearth/java:latest                  70 MB  inputs 0123456789ab");
    }
}
