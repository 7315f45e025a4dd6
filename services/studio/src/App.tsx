import { lazy, Suspense, type ReactNode } from "react";
import { Navigate, Route, Routes } from "react-router";
import { Layout } from "./components/Layout";
import { RequireAuth } from "./components/RequireAuth";
import { Loading } from "./components/StateViews";
import { SignIn } from "./pages/SignIn";
import { SignUp } from "./pages/SignUp";
import { Dashboard } from "./pages/Dashboard";
import { UploadPage } from "./pages/Upload";
import { AssetDetail } from "./pages/AssetDetail";
import { SearchPage } from "./pages/Search";
import { CreatorPage } from "./pages/Creator";
import { MyProfile } from "./pages/MyProfile";
import { VerifyEmail } from "./pages/VerifyEmail";
import { ResetPassword } from "./pages/ResetPassword";
import { NotFound } from "./pages/NotFound";

// The heavy, less visited pages are split into their own chunks.
const CampaignsPage = lazy(() => import("./pages/Campaigns"));
const CampaignStudio = lazy(() => import("./pages/campaign/CampaignStudio"));
const ModerationPage = lazy(() => import("./pages/Moderation"));
const BillingPage = lazy(() => import("./pages/Billing"));
const AppsPage = lazy(() => import("./pages/Apps"));
const AdminPage = lazy(() => import("./pages/Admin"));

function Lazy({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

function Private({ children, role }: { children: ReactNode; role?: "moderator" | "admin" }) {
  return (
    <RequireAuth role={role}>
      <Lazy>{children}</Lazy>
    </RequireAuth>
  );
}

export function App() {
  return (
    <Routes>
      <Route element={<Layout />}>
        <Route path="/signin" element={<SignIn />} />
        <Route path="/signup" element={<SignUp />} />
        <Route path="/verify-email" element={<VerifyEmail />} />
        <Route path="/reset-password" element={<ResetPassword />} />
        <Route path="/" element={<Navigate to="/dashboard" replace />} />
        <Route path="/dashboard" element={<Private><Dashboard /></Private>} />
        <Route path="/upload" element={<Private><UploadPage /></Private>} />
        <Route path="/assets/:id" element={<Private><AssetDetail /></Private>} />
        <Route path="/search" element={<Private><SearchPage /></Private>} />
        <Route path="/creators/:id" element={<Private><CreatorPage /></Private>} />
        <Route path="/me/profile" element={<Private><MyProfile /></Private>} />
        <Route path="/campaigns" element={<Private><CampaignsPage /></Private>} />
        <Route path="/campaigns/:id" element={<Private><CampaignStudio /></Private>} />
        <Route path="/billing" element={<Private><BillingPage /></Private>} />
        <Route path="/moderation" element={<Private role="moderator"><ModerationPage /></Private>} />
        <Route path="/apps" element={<Private role="admin"><AppsPage /></Private>} />
        <Route path="/admin" element={<Private role="admin"><AdminPage /></Private>} />
        <Route path="*" element={<NotFound />} />
      </Route>
    </Routes>
  );
}
