//! Prompts, in one place. The local model is a small BASE model (Gemma 3 270M): it
//! continues text, so it gets few-shot prompts — two worked examples in a fixed layout,
//! then the start of the one to write — and stops at the next example's marker
//! (`###`). Gemini follows instructions and answers to a JSON schema.

use crate::domain::analysis::clip;
use crate::domain::writer::{ChatInput, PostInput, SuggestInput};
use marquee_social::Platform;

/// Ends each few-shot example.
pub const END: &str = "###";

/// Text from the creator or a website, trimmed to fit a prompt: one paragraph, at most
/// `max` characters.
pub fn excerpt(text: &str, max: usize) -> String {
    clip(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

/// Tokens to allow for one post's text on a platform (the rules layer trims the rest).
pub fn post_tokens(platform: Platform) -> u32 {
    match platform {
        Platform::X | Platform::Bluesky => 90,
        Platform::Threads | Platform::Mastodon => 120,
        _ => 170,
    }
}

/// Sampling temperature from the brief's creativity (1 → 0.4, 10 → 1.0).
pub fn temperature(creativity: u32) -> f32 {
    0.33 + creativity.clamp(1, 10) as f32 * 0.067
}

pub const ANALYSIS_EXAMPLES: &str = "\
Description: Green Leaf is a family-run plant shop in Portland. We sell rare houseplants, handmade ceramic pots and offer repotting workshops every Saturday.
Company: Green Leaf
Industry: Retail, houseplants
Audience: Urban plant lovers in Portland, 25 to 45
Value: Rare houseplants you cannot find elsewhere; Handmade ceramic pots; Weekly repotting workshops
Voice: Warm, friendly and expert
Advantages: Family-run with personal advice; Local handmade products
Messages: Bring rare plants home; Learn to care for your plants with us
Product: Rare houseplants, ceramic pots and plant-care workshops
###
Description: Ledgerly is accounting software for freelancers. It sends invoices, tracks expenses and prepares tax reports automatically.
Company: Ledgerly
Industry: Software, finance
Audience: Freelancers and small agencies
Value: Invoices in two clicks; Expenses tracked automatically; Tax reports ready on time
Voice: Clear, confident and helpful
Advantages: Built for freelancers; Everything in one app
Messages: Spend less time on paperwork; Get paid faster
Product: Invoicing, expense tracking and tax reporting software
###
";

pub fn analysis(description: &str) -> String {
    format!(
        "{ANALYSIS_EXAMPLES}Description: {}\nCompany:",
        excerpt(description, 1400)
    )
}

pub const THEMES_EXAMPLES: &str = "\
Company: Green Leaf, rare houseplants and handmade pots in Portland
Themes: Plant of the week | Saturday workshops | Meet the family | Pot and plant pairings
Hashtags: #Houseplants #PlantLovers #Portland #UrbanJungle #PlantCare
Guidance: Speak like a friendly plant expert. Show real plants and people. End with an invitation to visit.
###
Company: Ledgerly, accounting software for freelancers
Themes: Invoice in two clicks | Tax season without stress | Freelancer stories | Time saved
Hashtags: #Freelance #Invoicing #SmallBusiness #Productivity #Accounting
Guidance: Be clear and reassuring. Use concrete numbers. One idea per post.
###
";

pub fn themes(input: &SuggestInput) -> String {
    let a = &input.analysis.draft;
    let mut about = format!("{}, {}", a.company_name, excerpt(&a.product_context, 160));
    if !input.hint_tags.is_empty() {
        about.push_str(&format!(
            " ({})",
            input
                .hint_tags
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    format!("{THEMES_EXAMPLES}Company: {about}\nThemes:")
}

const POST_EXAMPLES: &str = "\
Company: Green Leaf, rare houseplants and handmade pots in Portland
Platform: Instagram
Theme: Plant of the week
Post: Meet our plant of the week: the Pink Princess philodendron 🌿 Rare, bold and ready for a sunny shelf. Come find yours at Green Leaf this weekend!
Image: A pink and green philodendron in a handmade white ceramic pot on a sunny wooden shelf
###
Company: Ledgerly, accounting software for freelancers
Platform: LinkedIn
Theme: Tax season without stress
Post: Tax season does not have to hurt. Ledgerly tracks every expense as you go, so your report is ready when you are. Freelancers tell us they save 5 hours a month. Try it free.
Image: A relaxed freelancer at a bright desk closing a laptop with a finished tax report on screen
###
";

pub fn post(input: &PostInput) -> String {
    let a = &input.analysis.draft;
    let mut about = format!("{}, {}", a.company_name, excerpt(&a.product_context, 160));
    if about.chars().count() < 40 {
        about.push_str(&format!(
            ". {}",
            excerpt(&input.brief.business_description, 160)
        ));
    }
    let mut theme = input.theme.name.clone();
    if !input.instructions.trim().is_empty() {
        theme.push_str(&format!(" ({})", excerpt(&input.instructions, 160)));
    }
    format!(
        "{POST_EXAMPLES}Company: {about}\nPlatform: {}\nTheme: {theme}\nPost:",
        input.platform.label()
    )
}

const CHAT_EXAMPLES: &str = "\
Guidance: Be friendly. Show real plants.
Request: Make it more playful and mention free delivery.
Reply: Sure! I made the tone more playful and added free delivery.
New guidance: Be playful and friendly. Show real plants. Mention free delivery in Portland.
###
Guidance: Be clear and reassuring.
Request: Avoid jargon, our readers are not accountants.
Reply: Good point, I asked for plain words only.
New guidance: Be clear and reassuring. Use plain words, no accounting jargon.
###
";

pub fn chat(input: &ChatInput) -> String {
    format!(
        "{CHAT_EXAMPLES}Guidance: {}\nRequest: {}\nReply:",
        excerpt(&input.guidance, 600),
        excerpt(&input.message, 400)
    )
}

/// Gemini's system instruction for every campaign task.
pub const SYSTEM: &str = "You are a senior social-media marketing strategist. You write \
accurate, specific, on-brand copy about the business described, never inventing facts \
(prices, dates, awards) that the brief does not give. Answer in the JSON schema given.";

/// The brief and analysis as Gemini reads them.
pub fn brief_block(input_brief: &crate::domain::brief::Brief) -> String {
    format!(
        "Campaign: {}\nObjective: {}\nType: {}\nBusiness description: {}\nTarget audience: {}\nPlatforms: {}\nCreativity (1 plain – 10 bold): {}",
        input_brief.name,
        input_brief.objective,
        input_brief.campaign_type,
        excerpt(&input_brief.business_description, 6000),
        input_brief.target_audience,
        input_brief
            .platforms
            .iter()
            .map(|p| p.label())
            .collect::<Vec<_>>()
            .join(", "),
        input_brief.creativity
    )
}
