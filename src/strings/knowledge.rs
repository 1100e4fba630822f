//! What Steward says about answers grounded in the knowledge base.

use super::Strings;

impl Strings {
    /// Nothing in the knowledge base answers the question: say so plainly, and where to ask.
    pub fn dont_know(&self) -> &'static str {
        self.pick(
            "I don't know: the community's documents don't cover this. Please ask the other \
             members or a moderator here; I've noted the question so the documents can be \
             improved.",
            "我不知道：社区文档里没有这方面的内容。请在这里向其他成员或管理员请教；\
             我已记下这个问题，以便补充文档。",
        )
    }

    /// The lead-in of a pointer to a solved conversation that closely matches the question
    /// (`setting solved_pointers on`); the conversation's link and first lines follow.
    pub fn solved_pointer_lead_in(&self) -> &'static str {
        self.pick(
            "This looks like a question already solved here:",
            "这个问题之前已经有人解决过：",
        )
    }

    /// The line before the cited sources of an answer.
    pub fn sources_header(&self) -> &'static str {
        self.pick("Sources:", "来源：")
    }

    /// The lead-in of an answer quoted from the sources (the model does not write this
    /// language well enough to answer in it).
    pub fn extractive_lead_in(&self) -> &'static str {
        self.pick(
            "Here is what the community's documents say:",
            "社区文档中的相关内容：",
        )
    }
}
